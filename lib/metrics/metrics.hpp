#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace aimo::metrics {

/// One provider's scheduler state, for the gauges of /metrics and `aimo status`.
struct QueueState {
    std::string provider;
    size_t in_flight = 0;
    std::map<std::string, size_t> queued_by_agent;    ///< agents with requests waiting
    std::map<std::string, size_t> in_flight_by_agent; ///< agents with requests out
    double held_seconds = 0;    ///< what is left of a back-off the upstream asked for
    size_t window_requests = 0; ///< requests started in the last minute (when rpm is set)
    int64_t window_tokens = 0;  ///< tokens of the last minute (when tpm is set)
    std::optional<int> max_in_flight;
    std::optional<int64_t> rpm;
    std::optional<int64_t> tpm;
};

/// Counters and histograms for GET /metrics in the Prometheus text format. Thread-safe; each
/// update is one short critical section.
class Metrics {
public:
    /// Every HTTP exchange, as the server finishes it.
    void exchange_started() { ++m_in_flight; }
    void exchange_finished(int status, long long total_us, long long overhead_us);
    /// Every forwarded request, once settled.
    void request(std::string_view agent, std::string_view model, int status, int64_t prompt_tokens,
                 int64_t completion_tokens, double cost_usd);
    /// An attempt at a provider that failed (timeout, unreachable, 5xx, 429 …).
    void upstream_error(const std::string& provider, const std::string& outcome);
    /// A request refused before it was forwarded (401, 402, 403, 404, 429 …); `agent` is "-"
    /// when the token named none.
    void denial(std::string_view agent, int status, std::string_view code);
    /// A request whose real cost passed what its agent had reserved for it.
    void over_reservation(std::string_view agent);
    /// One cacheable request's cache result ("hit", "hit-semantic", "miss", "bypass").
    void cache_request(std::string_view result);
    /// What a cache hit saved, in USD.
    void cache_saved(double usd);

    /// How long a request that had to wait spent in aimo's queue.
    void queue_wait(double seconds);

    /// The exposition text; `queues` adds the scheduler's gauges.
    std::string render(const std::vector<QueueState>& queues = {}) const;

private:
    static constexpr std::array<double, 12> bounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                      0.01,   0.05,    0.25,   1,     5,      30};
    struct Histogram {
        std::array<uint64_t, bounds.size() + 1> buckets{};
        double sum = 0;
        uint64_t count = 0;
        void add(double seconds);
    };
    mutable std::mutex m_mutex;
    std::atomic<int64_t> m_in_flight{0};
    std::map<int, uint64_t> m_http;
    Histogram m_duration;
    Histogram m_overhead;
    Histogram m_queue_wait;
    struct PerModel {
        std::map<int, uint64_t> requests; ///< by status
        uint64_t prompt_tokens = 0;
        uint64_t completion_tokens = 0;
        double cost_usd = 0;
    };
    // By agent, then model: found again without building a key for every request.
    std::map<std::string, std::map<std::string, PerModel, std::less<>>, std::less<>> m_by_agent;
    std::map<std::pair<std::string, std::string>, uint64_t> m_upstream_errors;
    std::map<std::tuple<std::string, int, std::string>, uint64_t, std::less<>> m_denials;
    std::map<std::string, uint64_t, std::less<>> m_over_reservation;
    std::map<std::string, uint64_t, std::less<>> m_cache_requests;
    double m_cache_saved = 0;
    size_t m_series = 0; ///< agent × model pairs; past a bound new models count as "(other)"
};

} // namespace aimo::metrics
