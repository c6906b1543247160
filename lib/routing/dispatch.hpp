#pragma once

#include "core/error.hpp"
#include "routing/table.hpp"
#include "sched/scheduler.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace aimo::routing {

/// A request to forward, as the dispatcher needs it.
struct Outgoing {
    std::string method = "POST";
    std::string rest;          ///< OpenAI path below /v1, e.g. "/chat/completions"
    std::string query;         ///< raw, without '?'
    upstream::Headers headers; ///< the client's, minus hop-by-hop headers and credentials
    std::string_view body;     ///< must outlive the Dispatch (or point into owned_body)
    std::shared_ptr<const std::string> owned_body; ///< a body aimo changed, kept alive here
    std::string model;                             ///< the body's "model" as the client wrote it
    bool has_model = false;                        ///< the body has a top-level "model" string …
    size_t model_begin = 0;                        ///< … whose JSON token spans these bytes
    size_t model_end = 0;
};

/// Whose request it is in the providers' queues, and how to tell its client has gone.
struct Queueing {
    sched::Scheduler* scheduler = nullptr; ///< null: every attempt goes straight out
    std::string agent = "-";
    int weight = 1;
    int64_t tokens = 0; ///< the request's estimated tokens, for a provider's tpm
    /// True once the client has hung up (asked while the request waits); null: never.
    std::function<bool()> client_gone;
};

/// One try at one provider, for the access log and x-aimo-attempts.
struct Attempt {
    std::string provider;
    /// Status code, "timeout", "unreachable", "bad-response", "circuit-open", "queue-timeout"
    /// (waited queue_timeout in aimo's queue), "held" (the provider asked to wait longer than
    /// retry_after_max), "client-gone".
    std::string outcome;
    bool failed = false; ///< the provider failed (not reached, too slow, 429 or 5xx)
};

/// Why a dispatch ended without an answer.
enum class Failure {
    none,
    upstream,      ///< every attempt failed (error() says how), or every circuit was open
    queue_timeout, ///< it waited its queue_timeout in aimo's queue (the last target's)
    held,          ///< the provider asked aimo to wait longer than retry_after_max
    client_gone,   ///< the client hung up while it waited
};

/// Forwards one request along its plan until an answer worth giving the client arrives:
/// retries with backoff and Retry-After on connection failures, timeouts, 429 and 5xx; falls
/// back to the next target when a target's attempts are used up or its circuit is open; never
/// retries other statuses. Every attempt first waits its turn in the scheduler (the provider's
/// limits, fairly across agents); a 429 (or 503 with Retry-After) holds the whole provider
/// there instead of this request alone, and a request that waited its provider's
/// queue_timeout falls back too. The slot is held until the dispatch is destroyed (the
/// answer's last byte). Runs in slices so the caller can keep its client's connection alive
/// while it waits. Not thread-safe; one per request.
class Dispatch {
    using Clock = std::chrono::steady_clock;

public:
    enum class State { waiting, answered, failed };

    Dispatch(std::shared_ptr<const Table> table, Plan plan, Outgoing request,
             Queueing queueing = {});
    ~Dispatch();
    Dispatch(const Dispatch&) = delete;
    Dispatch& operator=(const Dispatch&) = delete;

    /// Works for up to `slice`: starts attempts, waits for answers, sleeps through backoff.
    State advance(std::chrono::milliseconds slice);

    /// The answer (status and headers in, body still to read), once answered.
    upstream::HttpResponse& response() { return *m_response; }
    /// Why there is no answer, once failed.
    const core::Error& error() const { return *m_error; }
    /// Why it failed, once failed.
    Failure failure() const { return m_failure; }
    /// When failed because every target's circuit was open, or the provider holds requests
    /// (Failure::held), or after a queue timeout: when to try again; else zero.
    std::chrono::milliseconds retry_after() const { return m_circuit_wait; }
    /// True while it waits in a provider's queue for its turn.
    bool queued() const { return m_ticket && !m_ticket->granted(); }
    /// Microseconds spent waiting in providers' queues, over all attempts.
    long long queued_us() const { return m_queued_us; }
    /// The tokens the answer really used, for the provider's tpm.
    void used_tokens(int64_t tokens) {
        if (m_ticket) {
            m_ticket->used(tokens);
        }
    }
    /// The target whose answer response() holds; nullptr before an answer.
    const Target* answered_target() const {
        return m_answer_target < m_plan.targets.size() ? &m_plan.targets[m_answer_target] : nullptr;
    }
    /// The routing table this request uses to the end.
    const Table& table() const { return *m_table; }
    /// The provider that answered (or was tried last).
    const std::string& provider() const { return m_provider; }
    const std::vector<Attempt>& attempts() const { return m_attempts; }
    /// "aimo:503,ollama:200".
    std::string attempts_text() const;
    /// Microseconds spent waiting for upstream headers, over all attempts.
    long long upstream_us() const { return m_upstream_us; }

private:
    void start_attempt();
    void send();
    bool enter_queue(const Provider& provider, const Target& target);
    void wait_in_queue(Clock::time_point slice_end);
    void leave_queue(std::string outcome);
    /// Asks whether the client hung up, at most once per `every`.
    bool client_gone(Clock::time_point now, std::chrono::milliseconds every);
    /// `until`, or sooner when the client is to be asked about before then.
    Clock::time_point until_gone_check(Clock::time_point until, Clock::time_point now,
                                       std::chrono::milliseconds every) const;
    void abandon_client();
    /// The current target's breakers took this attempt as a probe that will not report.
    void abandon_probe();
    void on_answer(upstream::HttpResponse response);
    /// `connecting`: the provider was not reached at all.
    void on_failure(const core::Error& error, bool connecting);
    bool schedule_retry(std::optional<std::chrono::milliseconds> asked, bool held);
    void exhausted();
    std::string_view body_for(const Target& target);

    std::shared_ptr<const Table> m_table;
    Plan m_plan;
    Outgoing m_request;
    State m_state = State::waiting;
    size_t m_target = 0;
    size_t m_answer_target = static_cast<size_t>(-1);
    size_t m_last_answer_target = static_cast<size_t>(-1);
    int m_tries_on_target = 0;
    Clock::time_point m_deadline;
    Clock::time_point m_next_at;
    Clock::time_point m_attempt_started;
    const Provider* m_current = nullptr;
    std::shared_ptr<CircuitBreaker> m_model_breaker; ///< the current target's model breaker
    std::optional<upstream::PendingResponse> m_pending;
    std::optional<upstream::HttpResponse> m_response;
    std::optional<upstream::HttpResponse> m_last_answer; ///< a retryable answer, kept for the end
    std::optional<core::Error> m_error;
    std::optional<core::Error> m_last_error;
    std::chrono::milliseconds m_circuit_wait{0};
    std::string m_provider;
    std::string m_body; ///< the body with its model rewritten for the current target
    std::vector<Attempt> m_attempts;
    long long m_upstream_us = 0;
    Queueing m_queueing;
    std::unique_ptr<sched::Scheduler::Ticket> m_ticket; ///< the current attempt's turn
    Clock::time_point m_queue_deadline;
    Clock::time_point m_gone_checked;
    bool m_again = false; ///< the next attempt retries after the provider said to wait
    long long m_queued_us = 0;
    Failure m_failure = Failure::none;
    Failure m_last_refusal = Failure::none; ///< a queue timeout or hold at an earlier target
};

} // namespace aimo::routing
