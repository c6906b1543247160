#pragma once

#include "core/context.hpp"
#include "governance/governor.hpp"
#include "governance/usage.hpp"
#include "proxy/metrics.hpp"
#include "routing/dispatch.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace aimo::proxy {

/// The governance side of the proxy; both parts optional (null: not in use).
struct Governance {
    governance::Governor* governor = nullptr;
    governance::Ledger* ledger = nullptr;
    core::Clock clock;          ///< record timestamps
    Metrics* metrics = nullptr; ///< GET /metrics counters
    /// GET /metrics asks for an agent's token while authentication is in force (set when aimo
    /// listens beyond loopback: the counters name agents and their spending).
    bool metrics_need_token = false;
};

/// One forwarded request's accounting. finish() records it in the ledger (committed before
/// it returns) and settles the agent's reservation with the real cost; a request abandoned
/// without finish() (client gone) is finished by the destructor. Exactly once either way.
class Metering {
public:
    Metering(const Governance& governance, governance::Admission admission,
             governance::UsageRecord record, std::pair<double, double> prices);
    ~Metering();
    Metering(const Metering&) = delete;
    Metering& operator=(const Metering&) = delete;

    /// Takes the usage an answer (or one of its events) reported; the last report wins.
    void observe(const governance::TokenUsage& usage);
    void set_provider(const std::string& provider);
    /// Prices of the provider and model that answered (USD per million prompt, completion).
    void set_prices(std::pair<double, double> prices);
    /// Counts the failed attempts (timeouts, unreachable, 429, 5xx …) for /metrics.
    void count_attempts(const std::vector<routing::Attempt>& attempts);
    /// Rate-limit headers for the response (x-ratelimit-*); handed over once.
    governance::Headers take_response_headers() { return std::move(m_admission.headers); }
    /// The completion limit the agent's remaining budget imposes on this request, if any.
    std::optional<int64_t> max_tokens() const { return m_admission.max_tokens; }
    /// Records the request with the status the client saw.
    void finish(int status);

private:
    Governance m_governance;
    governance::Admission m_admission;
    governance::UsageRecord m_record;
    std::pair<double, double> m_prices;
    governance::TokenUsage m_usage;
    std::chrono::steady_clock::time_point m_start = std::chrono::steady_clock::now();
    std::mutex m_mutex;
    bool m_finished = false;
};

} // namespace aimo::proxy
