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

namespace {
// How often a waiting request asks whether its client is still there.
constexpr auto gone_check_queued = milliseconds(100);
constexpr auto gone_check_upstream = milliseconds(250);
} // namespace

Dispatch::Dispatch(std::shared_ptr<const Table> table, Plan plan, Outgoing request,
                   Queueing queueing)
    : m_table(std::move(table)), m_plan(std::move(plan)), m_request(std::move(request)),
      m_queueing(std::move(queueing)) {
    auto now = Clock::now();
    m_deadline = now + m_table->config().retry.deadline;
    m_next_at = now;
    m_gone_checked = now;
}

Dispatch::~Dispatch() {
    if ((m_pending || queued()) && m_current != nullptr) {
        abandon_probe(); // a probe whose client left proves nothing
    }
}

void Dispatch::abandon_probe() {
    m_current->breaker().abandon();
    m_model_breaker->abandon();
}

bool Dispatch::client_gone(Clock::time_point now, milliseconds every) {
    if (!m_queueing.client_gone || now - m_gone_checked < every) {
        return false;
    }
    m_gone_checked = now;
    return m_queueing.client_gone();
}

Dispatch::Clock::time_point Dispatch::until_gone_check(Clock::time_point until,
                                                       Clock::time_point now,
                                                       milliseconds every) const {
    return m_queueing.client_gone ? std::min(until, now + every) : until;
}

void Dispatch::abandon_client() {
    if (m_current != nullptr && (m_pending || queued())) {
        abandon_probe();
    }
    if (m_pending) {
        m_pending.reset(); // closing the connection stops the upstream's work too
        m_attempts.back().outcome = "client-gone";
    } else if (queued()) {
        m_attempts.push_back({m_provider, "client-gone"});
    }
    m_ticket.reset();
    m_state = State::failed;
    m_failure = Failure::client_gone;
    m_error = Error(ErrorKind::upstream_unreachable, "the client closed its connection");
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
        if (queued()) {
            wait_in_queue(slice_end);
            if (m_state == State::waiting && queued() && Clock::now() >= slice_end) {
                return m_state;
            }
        } else if (m_pending) {
            if (client_gone(now, gone_check_upstream)) {
                abandon_client();
                break;
            }
            auto until = until_gone_check(slice_end, now, gone_check_upstream);
            auto left = std::chrono::duration_cast<milliseconds>(until - now);
            if (left.count() <= 0) {
                if (until == slice_end) {
                    return m_state;
                }
                continue;
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
        m_current = provider;
        m_model_breaker = std::move(model_breaker);
        if (!enter_queue(*provider, target)) {
            continue;
        }
        if (!queued()) {
            send();
        }
        return; // else advance() waits for its turn
    }
    exhausted();
}

bool Dispatch::enter_queue(const Provider& provider, const Target& target) {
    if (m_queueing.scheduler == nullptr) {
        return true;
    }
    auto now = Clock::now();
    const auto& config = provider.config();
    sched::Ask ask;
    ask.provider = provider.name();
    ask.provider_limits = config.limits;
    ask.model = target.model;
    if (auto found = config.model_limits.find(target.model); found != config.model_limits.end()) {
        ask.model_limits = found->second;
    }
    ask.agent = m_queueing.agent;
    ask.weight = m_queueing.weight;
    ask.tokens = m_queueing.tokens;
    ask.again = m_again;
    // A provider that asked to wait longer than aimo waits for a Retry-After is not worth
    // joining: the request falls back, or its client hears how long.
    ask.longest_hold = m_table->config().retry.retry_after_max;
    m_ticket = m_queueing.scheduler->enter(std::move(ask));
    if (!m_ticket) {
        abandon_probe();
        m_attempts.push_back({provider.name(), "held", true});
        m_last_refusal = Failure::held;
        m_circuit_wait = std::chrono::duration_cast<milliseconds>(
            m_queueing.scheduler->held_until(provider.name()) - now);
        return false;
    }
    m_again = false;
    m_queue_deadline = now + config.queue_timeout;
    return true;
}

void Dispatch::wait_in_queue(Clock::time_point slice_end) {
    auto now = Clock::now();
    if (client_gone(now, gone_check_queued)) {
        abandon_client();
        return;
    }
    auto until = until_gone_check(std::min(slice_end, m_queue_deadline), now, gone_check_queued);
    if (m_ticket->wait(until)) {
        send();
        return;
    }
    if (Clock::now() >= m_queue_deadline) {
        leave_queue("queue-timeout");
    }
}

void Dispatch::leave_queue(std::string outcome) {
    abandon_probe();
    m_attempts.push_back({m_provider, std::move(outcome), true});
    m_queued_us +=
        std::chrono::duration_cast<std::chrono::microseconds>(m_ticket->waited()).count();
    m_ticket.reset();
    m_last_refusal = Failure::queue_timeout;
    m_circuit_wait = m_current->config().queue_timeout;
    // Its queue_timeout is spent; a later target gets its own.
    ++m_target;
    m_tries_on_target = 0;
    m_next_at = Clock::now();
    if (m_target >= m_plan.targets.size()) {
        exhausted();
    }
}

void Dispatch::send() {
    auto now = Clock::now();
    if (m_ticket) {
        auto waited = m_ticket->waited();
        m_queued_us += std::chrono::duration_cast<std::chrono::microseconds>(waited).count();
        m_deadline += waited; // the retry deadline is for trying, not for waiting one's turn
    }
    const auto& target = m_plan.targets[m_target];
    ++m_tries_on_target;
    m_attempt_started = now;
    m_attempts.push_back({m_current->name(), "…"});
    try {
        m_pending.emplace(m_current->start(m_request.method, m_request.rest, m_request.query,
                                           m_request.headers, body_for(target)));
    } catch (const Error& e) {
        on_failure(e, true);
        return;
    }
    if (m_ticket) {
        m_ticket->sent();
    }
    m_last_answer.reset();
}

void Dispatch::on_answer(upstream::HttpResponse response) {
    int status = response.status;
    m_attempts.back().outcome = std::to_string(status);
    m_attempts.back().failed = status >= 500 || status == 429;
    bool server_failure = status == 500 || status == 502 || status == 503 || status == 504;
    auto now = Clock::now();
    m_current->breaker().record(true, now); // it answered: the provider is reachable
    m_model_breaker->record(!server_failure, now);
    if (m_queueing.scheduler != nullptr) {
        m_queueing.scheduler->observe(m_current->name(), m_plan.targets[m_target].model,
                                      response.headers);
    }
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
    // The account's limit, not this request's: the provider is held for everyone (as long as
    // it asked, or a backoff when it did not say), and this request waits its turn again.
    // The hold comes first: the slot freed next must not let another request out.
    bool hold = m_queueing.scheduler != nullptr && (status == 429 || (status == 503 && asked));
    if (hold) {
        auto wait =
            asked ? *asked : backoff_delay(m_table->config().retry, m_tries_on_target, jitter());
        m_queueing.scheduler->hold(m_current->name(), now + wait);
        m_again = true;
    }
    m_ticket.reset();
    if (!schedule_retry(asked, hold)) {
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
    m_ticket.reset();
    if (!schedule_retry(std::nullopt, false)) {
        exhausted();
    }
}

bool Dispatch::schedule_retry(std::optional<milliseconds> asked, bool held) {
    const auto& policy = m_table->config().retry;
    auto now = Clock::now();
    bool waitable = !asked || *asked <= policy.retry_after_max;
    if (m_tries_on_target < policy.attempts && waitable && !m_current->breaker().is_open() &&
        !m_model_breaker->is_open()) {
        auto delay = std::max(backoff_delay(policy, m_tries_on_target, jitter()),
                              asked.value_or(milliseconds(0)));
        if (now + delay < m_deadline) {
            m_next_at = held ? now : now + delay; // held: the scheduler keeps it waiting
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
    m_failure = Failure::upstream;
    if (m_last_error) {
        m_error = m_last_error;
        m_circuit_wait = milliseconds(0);
        return;
    }
    double seconds = static_cast<double>(m_circuit_wait.count()) / 1000.0;
    if (m_last_refusal == Failure::queue_timeout) {
        m_failure = Failure::queue_timeout;
        m_error = Error(ErrorKind::upstream_unreachable,
                        fmt::format("waited {:.1f} s in aimo's queue for provider '{}', whose "
                                    "limits were all in use",
                                    seconds, m_provider),
                        "try again later, or raise its max_in_flight / rpm / tpm or "
                        "queue_timeout");
        return;
    }
    if (m_last_refusal == Failure::held) {
        m_failure = Failure::held;
        m_error = Error(ErrorKind::upstream_unreachable,
                        fmt::format("provider '{}' asked aimo to wait {:.1f} s before sending "
                                    "it more (Retry-After), longer than [retry] retry_after_max",
                                    m_provider, seconds),
                        "try again after that, or add a fallback target");
        return;
    }
    m_error = Error(ErrorKind::upstream_unreachable,
                    fmt::format("every target of this request is failing (its circuit opened after "
                                "repeated failures); next probe in {:.1f} s",
                                seconds),
                    "check the providers with 'aimo doctor', or add a fallback target");
}

} // namespace aimo::routing
