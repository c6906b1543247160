#pragma once

#include "governance/governor.hpp"
#include "governance/ledger.hpp"
#include "metrics/metrics.hpp"
#include "openai/usage.hpp"

#include <chrono>
#include <mutex>
#include <optional>
#include <string>

namespace aimo::governance {

/// USD per million prompt and completion tokens.
struct Prices {
    double in = 0;
    double out = 0;
};

/// USD for `usage` at `prices`.
double cost_usd(const openai::TokenUsage& usage, const Prices& prices);

/// One admitted request's accounting, from admission to its ledger record: usage observed from
/// the answer, the provider and prices of whoever answered, then finish() — one record, the
/// reservation settled with the real cost, /metrics counted. A request abandoned without
/// finish() (its client went away) is finished by the destructor: exactly once either way.
/// Thread-safe.
class Meter {
public:
    Meter(Governor* governor, Ledger* ledger, metrics::Metrics* metrics, Admission admission,
          UsageRecord record, Prices prices);
    ~Meter();
    Meter(const Meter&) = delete;
    Meter& operator=(const Meter&) = delete;

    /// Takes the usage an answer (or one of its events) reported; the last report wins, except
    /// that a report of the completion alone keeps the prompt reported before. Returns the
    /// usage as it now stands.
    openai::TokenUsage observe(const openai::TokenUsage& usage);
    /// Who answered (or was tried last), and that target's prices when known.
    void set_provider(const std::string& provider, std::optional<Prices> prices);
    /// Rate-limit headers for the response (x-ratelimit-*); handed over once.
    Headers take_response_headers() { return std::move(m_admission.headers); }
    /// The completion limit the agent's remaining budget imposes on this request, if any.
    std::optional<int64_t> max_tokens() const { return m_admission.max_tokens; }
    /// The response cache's part in the request (UsageRecord::cache) and, on a hit, what it
    /// saved. An "embedding" record is a call made for the cache: it is not a request of the
    /// client's in /metrics.
    void set_cache(std::string_view result, double saved_usd = 0);
    /// How long it waited in aimo's queue for its turn at a provider.
    void set_queue_wait(int64_t microseconds);
    /// Records the request with the status the client saw.
    void finish(int status);

private:
    Governor* m_governor;
    Ledger* m_ledger;
    metrics::Metrics* m_metrics;
    Admission m_admission;
    UsageRecord m_record;
    Prices m_prices;
    openai::TokenUsage m_usage;
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
    std::mutex m_mutex;
    bool m_finished = false;
};

} // namespace aimo::governance
