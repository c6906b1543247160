#pragma once

#include "config/file.hpp"
#include "core/context.hpp"
#include "core/settings.hpp"
#include "proxy/server.hpp"
#include "routing/config.hpp"
#include "state/redis_url.hpp"
#include "upstream/router_client.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace aimo::config {

/// Every setting, typed and validated once, with where each value came from, and the tables of
/// the same config file. Commands read fields; nothing outside the loader looks a setting up
/// by name.
struct Config {
    core::Settings sources{{}}; ///< each setting's text and origin (for `aimo config show`)
    std::filesystem::path path; ///< the config file (it may not exist)
    ConfigFile file;            ///< that file, read once
    upstream::RouterSettings router;
    proxy::ServerOptions server; ///< host, port, limits, timeouts and log format of `serve`
    std::chrono::seconds models_cache_ttl{60};
    std::chrono::milliseconds stream_keepalive{10'000};
    std::chrono::milliseconds config_poll{1'000};
    std::string database;  ///< the agents and ledger file, or "off"
    cache::Settings cache; ///< `[cache]`, checked
    /// The shared state server; unset: agents in the database, limits in each process.
    std::optional<state::RedisAddress> state;
    std::chrono::milliseconds state_lease{30'000};
    bool ui_admin = false; ///< the dashboard's owner actions are on

    /// The response cache's file: `[cache] file`, else cache.db beside the database; empty
    /// when the cache keeps none (file "off", or the database off).
    std::filesystem::path cache_file() const;

    /// The routing tables of the file, with the router from these settings as the default.
    routing::RoutingConfig routing(const core::EnvLookup& env) const;
};

/// Resolves every setting — flag > AIMO_* environment > config file > default (flags keyed by
/// setting key) — reads the config file with one TOML parse, and checks every value. Throws
/// core::Error naming the bad value and where it came from (usage for a flag, invalid_input
/// for the environment or the file).
Config load(const core::Context& ctx, const std::map<std::string, std::string>& flags);

/// The routing tables of the config file as it is now (for a reload), with the router of
/// `running` as the default. Throws as routing::parse_routing_config does.
routing::RoutingConfig reread_routing(const core::Context& ctx, const Config& running);

/// A port to connect to (what `connect` and `doctor` need): the serve port, unless it is 0
/// (any free port, which only serve can use). Throws core::Error(usage) then.
int connect_port(const Config& config);

} // namespace aimo::config
