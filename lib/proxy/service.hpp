#pragma once

#include "core/context.hpp"
#include "core/settings.hpp"
#include "proxy/server.hpp"
#include "upstream/router_client.hpp"

#include <functional>
#include <string>
#include <vector>

namespace aimo::proxy {

/// Everything `aimo chat --serve` needs, validated from settings.
struct ProxyConfig {
    upstream::RouterSettings router;
    ServerOptions server;
    std::chrono::seconds models_cache_ttl{60};
};

/// Validates host, port, limits, timeouts and log format; errors name the value's origin.
ProxyConfig proxy_config(const core::Settings& settings);

/// The URL a client on this machine uses to reach a proxy listening on `host`:`port`
/// (without /v1): wildcard or empty hosts become 127.0.0.1, IPv6 hosts are bracketed.
upstream::Url local_proxy_url(std::string host, int port);

/// What the banner shows once the proxy accepts connections.
struct ProxyReady {
    std::string base_url; ///< http://HOST:PORT/v1
    std::string address;  ///< wallet address
    std::string router;   ///< router origin
    bool loopback = true; ///< only this machine can connect
    std::vector<std::string> warnings;
};

/// Loads the keypair (a start-up error, never a per-request one), binds, calls `on_ready`,
/// and serves until SIGINT or SIGTERM; then stops accepting and lets in-flight requests finish
/// within the drain timeout. Returns true when they all finished.
bool run_proxy(core::Context& ctx, const ProxyConfig& config,
               const std::function<void(const ProxyReady&)>& on_ready);

} // namespace aimo::proxy
