#include "routing/resilience.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace aimo::routing {

bool retryable_status(int status) {
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

namespace {
std::optional<long long> whole_number(std::string_view text) {
    while (!text.empty() && text.front() == ' ') {
        text.remove_prefix(1);
    }
    while (!text.empty() && text.back() == ' ') {
        text.remove_suffix(1);
    }
    long long value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size() || value < 0) {
        return std::nullopt;
    }
    return value;
}
} // namespace

std::optional<milliseconds> retry_after(const upstream::Headers& headers,
                                        std::chrono::system_clock::time_point now) {
    if (const auto* ms = headers.find("retry-after-ms")) {
        if (auto value = whole_number(*ms)) {
            return milliseconds(*value);
        }
    }
    const auto* text = headers.find("retry-after");
    if (text == nullptr) {
        return std::nullopt;
    }
    if (auto seconds = whole_number(*text)) {
        return milliseconds(std::min<long long>(*seconds, 365LL * 86400) * 1000);
    }
    std::tm tm{};
    const char* end = strptime(text->c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') {
        return std::nullopt;
    }
    auto when = std::chrono::system_clock::from_time_t(timegm(&tm));
    auto wait = std::chrono::duration_cast<milliseconds>(when - now);
    return std::max(wait, milliseconds(0));
}

milliseconds backoff_delay(const RetryPolicy& policy, int retry, double jitter) {
    double ceiling = static_cast<double>(policy.backoff_initial.count());
    for (int i = 1; i < retry && ceiling < static_cast<double>(policy.backoff_max.count()); ++i) {
        ceiling *= 2;
    }
    ceiling = std::min(ceiling, static_cast<double>(policy.backoff_max.count()));
    return milliseconds(static_cast<long long>(ceiling * std::clamp(jitter, 0.0, 1.0)));
}

bool CircuitBreaker::allow(Clock::time_point now) {
    if (m_policy.failures == 0) {
        return true;
    }
    std::lock_guard lock(m_mutex);
    if (!m_open) {
        return true;
    }
    if (m_probing || now < m_open_until) {
        return false;
    }
    m_probing = true;
    return true;
}

void CircuitBreaker::record(bool success, Clock::time_point now) {
    if (m_policy.failures == 0) {
        return;
    }
    std::lock_guard lock(m_mutex);
    if (success) {
        m_failures = 0;
        m_open = false;
        m_probing = false;
        return;
    }
    ++m_failures;
    if (m_probing || m_failures >= m_policy.failures) {
        m_open = true;
        m_probing = false;
        m_open_until = now + m_policy.cooldown;
    }
}

void CircuitBreaker::abandon() {
    std::lock_guard lock(m_mutex);
    m_probing = false;
}

milliseconds CircuitBreaker::retry_in(Clock::time_point now) const {
    std::lock_guard lock(m_mutex);
    if (!m_open || now >= m_open_until) {
        return milliseconds(0);
    }
    return std::chrono::duration_cast<milliseconds>(m_open_until - now);
}

bool CircuitBreaker::is_open() const {
    std::lock_guard lock(m_mutex);
    return m_open;
}

bool CircuitBreaker::idle() const {
    std::lock_guard lock(m_mutex);
    return !m_open && !m_probing && m_failures == 0;
}

} // namespace aimo::routing
