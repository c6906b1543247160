#pragma once

#include "governance/ledger.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace aimo::governance {

/// One group of records, summed.
struct StatsRow {
    std::string key;
    int64_t requests = 0;
    int64_t errors = 0; ///< forwarded requests answered with status 400 and above
    int64_t denied = 0; ///< refused before forwarding (counted, not in the ledger's records)
    int64_t tokens_in = 0;
    int64_t tokens_out = 0;
    double cost_usd = 0;
    int64_t p50_us = 0; ///< latency percentiles
    int64_t p95_us = 0;
    int64_t queue_p50_us = 0; ///< percentiles of the wait in aimo's queue for a provider
    int64_t queue_p95_us = 0;
    int64_t cache_hits = 0;    ///< answered from the response cache (exact or semantic)
    int64_t cache_lookups = 0; ///< requests the cache looked up (hits and misses)
    double saved_usd = 0;      ///< what the hits would have cost upstream
    /// Hits among lookups, 0 to 1 (0 without lookups).
    double hit_rate() const {
        return cache_lookups == 0 ? 0 : static_cast<double>(cache_hits) / cache_lookups;
    }
};

/// Groups the records from `since` on (a timestamp; empty: all) `by` "agent", "model",
/// "provider", "client", "dialect" or "day" (throws core::Error(usage) otherwise), largest cost
/// first (by day: in date order). The semantic cache's embedding calls count in cost, not as
/// requests. Refusals are counted by agent and by day; by model, provider or client they are one
/// row keyed
/// "(refused)". Reads the ledger in one pass keeping only each record's latency and queue wait, so
/// months of records need megabytes, not gigabytes.
std::vector<StatsRow> stats_since(Database& db, const std::string& since, std::string_view by);
/// The same over several ledgers (one per aimo instance), merged as if they were one.
std::vector<StatsRow> stats_since(const std::vector<Database*>& ledgers, const std::string& since,
                                  std::string_view by);

/// The timestamp `text` means: a date or RFC 3339 time as written, or a span back from `now`
/// such as "30m", "24h", "7d". Throws core::Error(usage).
std::string since_timestamp(std::string_view text, std::chrono::system_clock::time_point now);

} // namespace aimo::governance
