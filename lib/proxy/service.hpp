#pragma once

#include "config/config.hpp"
#include "core/context.hpp"
#include "upstream/url.hpp"

#include <functional>
#include <string>
#include <vector>

namespace aimo::proxy {

/// What `serve` is asked for beyond the settings.
struct ServeChoices {
    bool require_auth = false;     ///< agent tokens even while no agent exists
    bool insecure_no_auth = false; ///< allow a non-loopback host without authentication
};

/// The URL a client on this machine uses to reach a proxy listening on `host`:`port`
/// (without /v1): wildcard or empty hosts become 127.0.0.1, IPv6 hosts are bracketed.
upstream::Url local_proxy_url(std::string host, int port);

/// What the banner shows once the proxy accepts connections.
struct ProxyReady {
    std::string base_url;               ///< http://HOST:PORT/v1
    std::string address;                ///< wallet address
    std::string router;                 ///< router origin (no [[providers]] in the config)
    std::vector<std::string> providers; ///< "name (url)" for each configured provider
    std::string config_file;            ///< watched for changes
    bool loopback = true;               ///< only this machine can connect
    bool auth_required = false;         ///< requests need an agent token
    std::string state;                  ///< the shared state server (no password), or empty
    bool owner_actions = false;         ///< the dashboard may change agents (ui_admin)
    std::string owner_secret;           ///< made at this start: to be shown now, and never again
    std::vector<std::string> warnings;
};

/// Reads the routing config and loads the keypair when a provider needs it (start-up errors,
/// never per-request ones), binds, calls `on_ready`, and serves until SIGINT or SIGTERM; then
/// stops accepting and lets in-flight requests finish within the drain timeout. SIGHUP or a
/// change of the config file reloads the routing config; an invalid one is logged and the old
/// one keeps serving. Opens the usage database; refuses a non-loopback host unless agent tokens
/// are required or `insecure_no_auth` is set. Returns true when every request finished.
bool run_proxy(core::Context& ctx, const config::Config& config, const ServeChoices& choices,
               const std::function<void(const ProxyReady&)>& on_ready);

} // namespace aimo::proxy
