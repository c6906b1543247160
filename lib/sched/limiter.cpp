#include "sched/limiter.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

namespace aimo::sched {

void Window::expire(Clock::time_point now, Clock::duration window) {
    while (!m_entries.empty() && m_entries.front().at + window <= now) {
        m_total -= m_entries.front().amount;
        m_entries.pop_front();
    }
}

uint64_t Window::add(Clock::time_point now, int64_t amount) {
    m_entries.push_back({now, amount, m_next_id});
    m_total += amount;
    return m_next_id++;
}

std::deque<Window::Entry>::iterator Window::find(uint64_t id) {
    // Ids grow with time, so a recent request (the usual case) is found near the back.
    for (auto entry = m_entries.end(); entry != m_entries.begin();) {
        --entry;
        if (entry->id == id) {
            return entry;
        }
        if (entry->id < id) {
            break;
        }
    }
    return m_entries.end();
}

void Window::adjust(uint64_t id, int64_t amount) {
    auto entry = find(id);
    if (entry != m_entries.end()) {
        m_total += amount - entry->amount;
        entry->amount = amount;
    }
}

uint64_t Window::restamp(uint64_t id, Clock::time_point now) {
    auto entry = find(id);
    if (entry == m_entries.end()) {
        return 0;
    }
    int64_t amount = entry->amount;
    m_total -= amount;
    m_entries.erase(entry);
    return add(now, amount);
}

std::optional<Clock::time_point> Window::next_expiry(Clock::duration window) const {
    if (m_entries.empty()) {
        return std::nullopt;
    }
    return m_entries.front().at + window;
}

std::optional<Clock::duration> parse_reset(std::string_view text) {
    text = core::trim_ows(text);
    if (text.empty() || text.size() > 32) {
        return std::nullopt;
    }
    double seconds = 0;
    while (!text.empty()) {
        size_t digits = 0;
        while (digits < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.')) {
            ++digits;
        }
        double number = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + digits, number);
        if (digits == 0 || error != std::errc() || end != text.data() + digits) {
            return std::nullopt;
        }
        text.remove_prefix(digits);
        double unit = 1;
        if (text.rfind("ms", 0) == 0) {
            unit = 0.001;
            text.remove_prefix(2);
        } else if (!text.empty() && (text[0] == 'h' || text[0] == 'm' || text[0] == 's')) {
            unit = text[0] == 'h' ? 3600 : text[0] == 'm' ? 60 : 1;
            text.remove_prefix(1);
        } else if (!text.empty()) {
            return std::nullopt;
        }
        seconds += number * unit;
    }
    if (!std::isfinite(seconds) || seconds > 86400) {
        return std::nullopt;
    }
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

bool Limiter::admits(int64_t tokens, Clock::time_point now, Clock::duration window,
                     Clock::time_point& wake) {
    auto later = [&](Clock::time_point at) {
        wake = std::min(wake, at);
        return false;
    };
    if (now < m_held_until) {
        return later(m_held_until);
    }
    if (limits.max_in_flight && m_in_flight >= static_cast<size_t>(*limits.max_in_flight)) {
        return false; // a release frees it
    }
    if (limits.rpm) {
        m_requests.expire(now, window);
        if (static_cast<int64_t>(m_requests.count()) >= *limits.rpm) {
            return later(*m_requests.next_expiry(window));
        }
    }
    if (limits.tpm) {
        m_tokens.expire(now, window);
        // A request larger than the whole allowance still goes, alone in an empty window.
        if (m_tokens.count() > 0 && m_tokens.total() + tokens > *limits.tpm) {
            return later(*m_tokens.next_expiry(window));
        }
    }
    if (now < m_requests_reset && m_requests_left <= 0) {
        return later(m_requests_reset);
    }
    if (now < m_tokens_reset && tokens > m_tokens_left) {
        return later(m_tokens_reset);
    }
    return true;
}

Stamp Limiter::start(int64_t tokens, Clock::time_point now) {
    ++m_in_flight;
    Stamp stamp;
    if (limits.rpm) {
        stamp.request = m_requests.add(now, 1);
    }
    if (now < m_requests_reset) {
        --m_requests_left;
    }
    if (now < m_tokens_reset) {
        m_tokens_left -= tokens;
    }
    if (limits.tpm) {
        stamp.tokens = m_tokens.add(now, tokens);
    }
    return stamp;
}

void Limiter::sent(Stamp& stamp, Clock::time_point now) {
    if (stamp.request != 0) {
        stamp.request = m_requests.restamp(stamp.request, now);
    }
    if (stamp.tokens != 0) {
        stamp.tokens = m_tokens.restamp(stamp.tokens, now);
    }
}

void Limiter::hold(Clock::time_point until) {
    m_held_until = std::max(m_held_until, until);
}

void Limiter::observe(const core::Headers& headers, Clock::time_point now) {
    auto read = [&](std::string_view remaining_name, std::string_view reset_name, int64_t& left,
                    Clock::time_point& reset) {
        const std::string* remaining = headers.find(remaining_name);
        const std::string* resets = headers.find(reset_name);
        if (remaining == nullptr || resets == nullptr) {
            return;
        }
        int64_t value = 0;
        auto [end, error] =
            std::from_chars(remaining->data(), remaining->data() + remaining->size(), value);
        auto in = parse_reset(*resets);
        if (error != std::errc() || end != remaining->data() + remaining->size() || !in) {
            return;
        }
        left = value;
        reset = now + *in;
    };
    read("x-ratelimit-remaining-requests", "x-ratelimit-reset-requests", m_requests_left,
         m_requests_reset);
    read("x-ratelimit-remaining-tokens", "x-ratelimit-reset-tokens", m_tokens_left, m_tokens_reset);
}

} // namespace aimo::sched
