#pragma once

#include "metrics/metrics.hpp"
#include "upstream/url.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace aimo::proxy {

/// One agent's requests at one provider now.
struct AgentActivity {
    std::string agent;
    size_t in_flight = 0;
    size_t queued = 0;
};

/// One provider's state in a running proxy: what is out, what waits, its limits and how much
/// of them the last minute used, and a back-off the provider asked for.
struct ProviderActivity {
    std::string provider;
    size_t in_flight = 0;
    size_t queued = 0;
    double held_seconds = 0;
    std::optional<int> max_in_flight;
    std::optional<int64_t> rpm;
    std::optional<int64_t> tpm;
    size_t window_requests = 0;
    int64_t window_tokens = 0;
    std::vector<AgentActivity> agents;
};

/// What `GET /api/aimo/status` answers: the scheduler's state of every provider, configured
/// providers that have seen no request yet included (`configured` names them).
nlohmann::json status_json(const std::vector<metrics::QueueState>& states,
                           const std::vector<std::string>& configured);

/// Asks the proxy at `base` (no /v1) for its status; `token` is an agent's token for a proxy
/// that asks for one. Throws core::Error when it cannot be reached or answers something else.
std::vector<ProviderActivity> fetch_status(const upstream::Url& base, const std::string& token);

} // namespace aimo::proxy
