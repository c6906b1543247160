#pragma once

#include "routing/config.hpp"
#include "upstream/http_client.hpp"

#include <chrono>
#include <mutex>
#include <optional>

namespace aimo::routing {

/// 429, 500, 502, 503 and 504: worth another attempt. Everything else (400, 401, 402, 403, 404,
/// 422, …) is the answer.
bool retryable_status(int status);

/// The wait an answer asks for: `retry-after-ms` (milliseconds), else `Retry-After` as seconds
/// or an HTTP date (relative to `now`). nullopt when absent or unreadable; never negative.
std::optional<milliseconds> retry_after(const upstream::Headers& headers,
                                        std::chrono::system_clock::time_point now);

/// Delay before retry number `retry` (1 = the first retry): exponential from
/// `backoff_initial`, capped at `backoff_max`, scaled by `jitter` in [0, 1] ("full jitter").
milliseconds backoff_delay(const RetryPolicy& policy, int retry, double jitter);

/// A per-provider circuit breaker. Closed: requests pass. After `failures` consecutive failures
/// it opens for `cooldown`; then one request is let through as a probe: success closes it,
/// failure opens it again. `failures` zero disables it. Thread-safe.
class CircuitBreaker {
public:
    using Clock = std::chrono::steady_clock;
    explicit CircuitBreaker(BreakerPolicy policy) : m_policy(policy) {}

    /// True when a request may go now; when the cooldown is over the caller becomes the probe.
    bool allow(Clock::time_point now);
    /// Records the outcome of a request that allow() let through.
    void record(bool success, Clock::time_point now);
    /// The request allow() let through ended without an outcome (its client went away): the
    /// next request may probe instead.
    void abandon();
    /// While open, the time until the next probe; zero otherwise.
    milliseconds retry_in(Clock::time_point now) const;
    /// True while the circuit is open (a probe may be in flight).
    bool is_open() const;
    /// Closed, with no failure counted and no probe out: nothing to remember.
    bool idle() const;

private:
    BreakerPolicy m_policy;
    mutable std::mutex m_mutex;
    int m_failures = 0;
    bool m_open = false;
    bool m_probing = false;
    Clock::time_point m_open_until{};
};

} // namespace aimo::routing
