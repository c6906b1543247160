#include "routing/dispatch.hpp"

#include "core/json.hpp"
#include "openai/request.hpp"
#include "routing/resilience.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

namespace aimo::routing {

using core::Error;
using core::ErrorKind;
using std::chrono::milliseconds;

namespace {
double jitter() {
    thread_local std::minstd_rand engine(std::random_device{}());
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

std::string outcome_of(const Error& error) {
    switch (error.kind()) {
    case ErrorKind::upstream_timeout:
        return "timeout";
    case ErrorKind::upstream_protocol:
        return "bad-response";
    default:
        return "unreachable";
    }
}
} // namespace

Dispatch::Dispatch(std::shared_ptr<const Table> table, Plan plan, Outgoing request)
    : m_table(std::move(table)), m_plan(std::move(plan)), m_request(std::move(request)) {
    auto now = Clock::now();
    m_deadline = now + m_table->config().retry.deadline;
    m_next_at = now;
}

Dispatch::~Dispatch() {
    if (m_pending && m_current != nullptr) {
        // A probe whose client left proves nothing.
        m_current->breaker().abandon();
        m_model_breaker->abandon();
    }
}

std::string Dispatch::attempts_text() const {
    std::string text;
    for (const auto& attempt : m_attempts) {
        text += text.empty() ? "" : ",";
        text += attempt.provider + ":" + attempt.outcome;
    }
    return text;
}

Dispatch::State Dispatch::advance(milliseconds slice) {
    auto slice_end = Clock::now() + slice;
    while (m_state == State::waiting) {
        auto now = Clock::now();
        if (m_pending) {
            auto left = std::chrono::duration_cast<milliseconds>(slice_end - now);
            if (left.count() <= 0) {
                return m_state;
            }
            std::optional<Error> failure;
            auto answer = [&]() -> std::optional<upstream::HttpResponse> {
                try {
                    return m_pending->wait(left);
                } catch (const Error& e) {
                    failure = e;
                    return std::nullopt;
                }
            }();
            if (failure) {
                m_upstream_us += std::chrono::duration_cast<std::chrono::microseconds>(
                                     Clock::now() - m_attempt_started)
                                     .count();
                m_pending.reset();
                on_failure(*failure, false);
                continue;
            }
            if (!answer) {
                // The wait may end a moment early (timeouts are whole milliseconds): the slice
                // is only over when its time is.
                if (Clock::now() < slice_end) {
                    continue;
                }
                return m_state;
            }
            m_upstream_us += answer->wait_us;
            m_pending.reset();
            on_answer(std::move(*answer));
        } else if (now < m_next_at) {
            auto until = std::min(m_next_at, slice_end);
            std::this_thread::sleep_until(until);
            if (until == slice_end && Clock::now() < m_next_at) {
                return m_state;
            }
        } else {
            start_attempt();
        }
    }
    return m_state;
}

std::string_view Dispatch::body_for(const Target& target) {
    if (!m_request.has_model || target.model == m_request.model) {
        return m_request.body;
    }
    m_body = openai::with_model(m_request.body, m_request.model_begin, m_request.model_end,
                                target.model);
    return m_body;
}

void Dispatch::start_attempt() {
    auto now = Clock::now();
    for (; m_target < m_plan.targets.size(); ++m_target, m_tries_on_target = 0) {
        const auto& target = m_plan.targets[m_target];
        const Provider* provider = m_table->provider(target.provider);
        if (provider == nullptr) {
            continue; // cannot happen: config validation checks every target
        }
        m_provider = provider->name();
        // The model's own circuit first, then the provider's: a model failing on its own is
        // skipped without closing the door to the provider's other models.
        auto model_breaker = provider->model_breaker(target.model);
        const CircuitBreaker* open = nullptr;
        if (!model_breaker->allow(now)) {
            open = model_breaker.get();
        } else if (!provider->breaker().allow(now)) {
            model_breaker->abandon();
            open = &provider->breaker();
        }
        if (open != nullptr) {
            m_attempts.push_back({provider->name(), "circuit-open", true});
            auto wait = open->retry_in(now);
            if (m_circuit_wait.count() == 0 || wait < m_circuit_wait) {
                m_circuit_wait = wait;
            }
            continue;
        }
        ++m_tries_on_target;
        m_current = provider;
        m_model_breaker = std::move(model_breaker);
        m_attempt_started = now;
        m_attempts.push_back({provider->name(), "…"});
        try {
            m_pending.emplace(provider->start(m_request.method, m_request.rest, m_request.query,
                                              m_request.headers, body_for(target)));
        } catch (const Error& e) {
            on_failure(e, true);
            return;
        }
        m_last_answer.reset();
        return;
    }
    exhausted();
}

void Dispatch::on_answer(upstream::HttpResponse response) {
    int status = response.status;
    m_attempts.back().outcome = std::to_string(status);
    m_attempts.back().failed = status >= 500 || status == 429;
    bool server_failure = status == 500 || status == 502 || status == 503 || status == 504;
    auto now = Clock::now();
    m_current->breaker().record(true, now); // it answered: the provider is reachable
    m_model_breaker->record(!server_failure, now);
    if (!retryable_status(status)) {
        auto total = m_current->config().timeouts.total;
        if (total.count() > 0) {
            response.set_deadline(m_attempt_started + total);
        }
        m_response.emplace(std::move(response));
        m_answer_target = m_target;
        m_state = State::answered;
        return;
    }
    m_last_answer_target = m_target;
    auto asked = routing::retry_after(response.headers, std::chrono::system_clock::now());
    m_last_answer.emplace(std::move(response));
    m_last_error.reset();
    if (!schedule_retry(asked)) {
        exhausted();
    }
}

void Dispatch::on_failure(const Error& error, bool connecting) {
    m_attempts.back().outcome = outcome_of(error);
    m_attempts.back().failed = true;
    // Not reached (connect, TLS, send): the provider. Reached, then no good answer (first-byte
    // timeout, reset, garbage): the model.
    auto now = Clock::now();
    if (connecting) {
        m_current->breaker().record(false, now);
        m_model_breaker->abandon();
    } else {
        m_model_breaker->record(false, now);
    }
    m_last_error = error;
    m_last_answer.reset();
    if (!schedule_retry(std::nullopt)) {
        exhausted();
    }
}

bool Dispatch::schedule_retry(std::optional<milliseconds> asked) {
    const auto& policy = m_table->config().retry;
    auto now = Clock::now();
    bool waitable = !asked || *asked <= policy.retry_after_max;
    if (m_tries_on_target < policy.attempts && waitable && !m_current->breaker().is_open() &&
        !m_model_breaker->is_open()) {
        auto delay = std::max(backoff_delay(policy, m_tries_on_target, jitter()),
                              asked.value_or(milliseconds(0)));
        if (now + delay < m_deadline) {
            m_next_at = now + delay;
            return true;
        }
    }
    if (m_target + 1 < m_plan.targets.size() && now < m_deadline) {
        ++m_target;
        m_tries_on_target = 0;
        m_next_at = now;
        return true;
    }
    return false;
}

void Dispatch::exhausted() {
    if (m_last_answer) {
        m_response.emplace(std::move(*m_last_answer));
        m_answer_target = m_last_answer_target;
        m_last_answer.reset();
        m_state = State::answered;
        return;
    }
    m_state = State::failed;
    if (m_last_error) {
        m_error = m_last_error;
        m_circuit_wait = milliseconds(0);
        return;
    }
    m_error = Error(ErrorKind::upstream_unreachable,
                    fmt::format("every target of this request is failing (its circuit opened after "
                                "repeated failures); next probe in {:.1f} s",
                                static_cast<double>(m_circuit_wait.count()) / 1000.0),
                    "check the providers with 'aimo doctor', or add a fallback target");
}

} // namespace aimo::routing
