#pragma once

#include "core/context.hpp"
#include "sched/limiter.hpp"
#include "upstream/http_client.hpp"
#include "upstream/url.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace aimo::routing {

using std::chrono::milliseconds;

/// What kind of upstream a provider is.
enum class ProviderKind {
    aimo,     ///< the AiMo router: paths under /api/v1, every request SIWx-signed
    openai,   ///< any OpenAI-compatible base URL (…/v1), optional bearer key
    openclaw, ///< OpenClaw's gateway: the OpenAI surface (…/v1), a bearer token, and
              ///< /v1/responses of its own
    anthropic ///< the Anthropic Messages API (…/v1/messages): x-api-key and anthropic-version
};

/// The `kind` value a provider of `kind` is written with: "aimo", "openai", "openclaw" or
/// "anthropic".
std::string_view kind_name(ProviderKind kind);

/// How long to wait for one provider. `total` zero means no limit.
struct ProviderTimeouts {
    milliseconds connect{10'000};
    milliseconds first_byte{300'000};
    milliseconds idle{300'000};
    milliseconds total{0};
};

/// One `[[providers]]` entry, validated. `api_key` holds the value of the variable named by
/// `api_key_env`; it is never printed.
struct ProviderConfig {
    std::string name;
    ProviderKind kind = ProviderKind::aimo;
    upstream::Url base_url;
    std::string api_key_env;
    std::string api_key;
    upstream::Headers headers;       ///< extra headers sent on every request
    std::vector<std::string> models; ///< explicit list; empty: discovered from /models
    ProviderTimeouts timeouts;
    std::optional<double> price_in;  ///< USD per million prompt tokens, for models the
    std::optional<double> price_out; ///< catalogue gives no price for
    /// The account's limits (max_in_flight, rpm, tpm): a request past them waits in aimo's
    /// queue instead of going out.
    sched::Limits limits;
    /// Limits of single models at this provider (model id -> limits), besides the account's.
    std::map<std::string, sched::Limits> model_limits;
    /// How long a request may wait in that queue before it is answered 429.
    std::chrono::milliseconds queue_timeout{120'000};
    /// The provider serves the Responses API itself: /v1/responses goes to it unchanged
    /// instead of being translated to chat completions (the default for kind openclaw).
    bool responses = false;
    /// kind anthropic: the anthropic-version sent when the client sends none.
    std::string anthropic_version = "2023-06-01";
    std::string where; ///< file:line:col of the entry, for messages
};

/// One place a request can go: a provider and the model id that provider knows.
struct Target {
    std::string provider;
    std::string model;
    /// "provider/model".
    std::string name() const { return provider + "/" + model; }
};

/// `[[routes]]`: the model name clients use and its ordered fallback chain.
struct Route {
    std::string model;
    std::vector<Target> targets;
};

/// `[retry]`: attempts per target before falling back, exponential backoff with full jitter,
/// the longest Retry-After that is waited for, and the deadline for all attempts together.
struct RetryPolicy {
    int attempts = 3;
    milliseconds backoff_initial{200};
    milliseconds backoff_max{5'000};
    milliseconds retry_after_max{30'000};
    milliseconds deadline{60'000};
};

/// `[breaker]`: consecutive failures that open a provider's circuit, and how long it stays
/// open before one probe request is let through.
struct BreakerPolicy {
    int failures = 5;
    milliseconds cooldown{30'000};
};

/// Everything about where requests go. With no `[[providers]]` (`implicit`), there is one
/// provider named "aimo" — the router from the settings — and, unless a `[retry]` table says
/// otherwise, one attempt per request: exactly the behaviour of a proxy without a config file.
struct RoutingConfig {
    bool implicit = true;
    std::vector<ProviderConfig> providers;
    std::map<std::string, std::string> aliases; ///< friendly name -> model name
    std::vector<Route> routes;
    RetryPolicy retry;
    BreakerPolicy breaker;

    /// The provider named `name`, or nullptr.
    const ProviderConfig* provider(std::string_view name) const;
    /// The route for `model`, or nullptr.
    const Route* route(std::string_view model) const;
};

/// What the settings contribute: the router every "aimo" provider defaults to, and default
/// timeouts.
struct RoutingDefaults {
    upstream::Url router_url;
    upstream::Timeouts timeouts;
};

/// Reads the routing tables of config.toml text (`source` names it in messages; empty text gives
/// the implicit config). Every error — TOML syntax, unknown keys, wrong types, unknown providers
/// in routes, alias loops, an unset api_key_env variable — throws core::Error(invalid_input)
/// naming the file, line and column. (The config loader reads them from the file it parsed:
/// routing/config_toml.hpp.)
RoutingConfig parse_routing_config(std::string_view text, const std::string& source,
                                   const RoutingDefaults& defaults, const core::EnvLookup& env);

} // namespace aimo::routing
