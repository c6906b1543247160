#pragma once

#include "core/error.hpp"
#include "routing/table.hpp"

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

/// One try at one provider, for the access log and x-aimo-attempts.
struct Attempt {
    std::string provider;
    std::string outcome; ///< status code, "timeout", "unreachable", "bad-response", "circuit-open"
    bool failed = false; ///< the provider failed (not reached, too slow, 429 or 5xx)
};

/// Forwards one request along its plan until an answer worth giving the client arrives:
/// retries with backoff and Retry-After on connection failures, timeouts, 429 and 5xx; falls
/// back to the next target when a target's attempts are used up or its circuit is open; never
/// retries other statuses. Runs in slices so the caller can keep its client's connection alive
/// while it waits. Not thread-safe; one per request.
class Dispatch {
public:
    enum class State { waiting, answered, failed };

    Dispatch(std::shared_ptr<const Table> table, Plan plan, Outgoing request);
    ~Dispatch();
    Dispatch(const Dispatch&) = delete;
    Dispatch& operator=(const Dispatch&) = delete;

    /// Works for up to `slice`: starts attempts, waits for answers, sleeps through backoff.
    State advance(std::chrono::milliseconds slice);

    /// The answer (status and headers in, body still to read), once answered.
    upstream::HttpResponse& response() { return *m_response; }
    /// Why there is no answer, once failed.
    const core::Error& error() const { return *m_error; }
    /// When failed because every target's circuit was open: when to try again; else zero.
    std::chrono::milliseconds retry_after() const { return m_circuit_wait; }
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
    void on_answer(upstream::HttpResponse response);
    /// `connecting`: the provider was not reached at all.
    void on_failure(const core::Error& error, bool connecting);
    bool schedule_retry(std::optional<std::chrono::milliseconds> asked);
    void exhausted();
    std::string_view body_for(const Target& target);

    using Clock = std::chrono::steady_clock;
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
};

} // namespace aimo::routing
