#include "config/config.hpp"

#include "core/error.hpp"
#include "core/paths.hpp"

#include <fmt/format.h>
#include <system_error>

namespace aimo::config {

namespace {
// One validator per kind of value; each error names the value's origin.

long long whole(const core::Settings& s, std::string_view key, long long min, long long max) {
    return s.get_int(key, min, max);
}

std::chrono::seconds seconds(const core::Settings& s, std::string_view key, long long min,
                             long long max) {
    return std::chrono::seconds(whole(s, key, min, max));
}

std::chrono::milliseconds millis(const core::Settings& s, std::string_view key, long long max) {
    return std::chrono::milliseconds(whole(s, key, 0, max));
}

bool boolean(const core::Settings& s, std::string_view key) {
    const auto& value = s.get(key);
    if (value.value == "true" || value.value == "1" || value.value == "yes") {
        return true;
    }
    if (value.value == "false" || value.value == "0" || value.value == "no") {
        return false;
    }
    throw core::Error(
        value.source == core::SettingSource::flag ? core::ErrorKind::usage
                                                  : core::ErrorKind::invalid_input,
        fmt::format("{} '{}' (from {}) is not true or false", key, value.value, value.origin),
        fmt::format("use {} = true or false", key));
}

// A value that is wrong in what it means, not in its form: a usage error from a flag, a
// value to fix where it came from otherwise. The error's own advice (what to use instead)
// holds either way, so it stays, followed by where to change the value.
core::Error bad(const core::SettingValue& value, core::Error error) {
    if (value.source == core::SettingSource::flag) {
        return error;
    }
    auto advice = error.hint().empty() ? std::string() : error.hint() + "; ";
    return core::Error(core::ErrorKind::invalid_input, error.what(),
                       advice + "fix or remove it in " + value.origin);
}

upstream::RouterSettings router(const core::Settings& s) {
    upstream::RouterSettings out;
    const auto& url = s.get("router_url");
    try {
        out.url = upstream::parse_url(url.value, "router URL (from " + url.origin + ")");
    } catch (const core::Error& e) {
        throw bad(url, e);
    }
    out.keypair = s.value("keypair");
    out.chain_id = s.value("chain_id");
    out.timeouts.connect = seconds(s, "connect_timeout", 1, 3600);
    out.timeouts.read = seconds(s, "read_timeout", 1, 86400);
    if (const auto& ca = s.get("ca_file"); !ca.value.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(ca.value, ec)) {
            throw core::Error(core::ErrorKind::usage,
                              "CA file '" + ca.value + "' (from " + ca.origin + ") does not exist",
                              "point --ca-file / AIMO_CA_FILE at a PEM file, or unset it");
        }
        out.ca_file = ca.value;
    }
    out.signature_reuse = millis(s, "signature_reuse_ms", 60'000);
    return out;
}

proxy::ServerOptions server(const core::Settings& s) {
    proxy::ServerOptions out;
    out.host = s.value("host");
    if (out.host.empty()) {
        throw core::Error(core::ErrorKind::usage, "the listen host is empty",
                          "use --host 127.0.0.1 (or another address of this machine)");
    }
    out.port = static_cast<int>(whole(s, "port", 0, 65535));
    out.max_body_bytes = static_cast<size_t>(whole(s, "max_body_bytes", 1024, 1LL << 32));
    out.drain_timeout = seconds(s, "drain_timeout", 0, 3600);
    out.max_connections = static_cast<size_t>(whole(s, "max_connections", 1, 1'000'000));
    out.header_timeout = seconds(s, "header_timeout", 1, 3600);
    out.body_timeout = seconds(s, "body_timeout", 1, 86400);
    out.idle_timeout = seconds(s, "idle_timeout", 1, 3600);
    const auto& format = s.get("log_format");
    try {
        out.log_format = proxy::parse_log_format(format.value);
    } catch (const core::Error& e) {
        throw bad(format,
                  core::Error(core::ErrorKind::usage,
                              fmt::format("{} (from {})", e.what(), format.origin), e.hint()));
    }
    return out;
}

std::map<std::string, std::string> defaults(const core::Context& ctx) {
    auto dir = core::config_dir(ctx);
    return {
        {"keypair", (dir / "keypair.json").string()},
        {"router_url", "https://beta.aimo.network"},
        {"chain_id", "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp"},
        {"host", "127.0.0.1"},
        {"port", "8080"},
        {"models_cache_ttl", "60"},
        {"max_body_bytes", std::to_string(32 * 1024 * 1024)},
        {"drain_timeout", "10"},
        {"max_connections", "1024"},
        {"header_timeout", "10"},
        {"body_timeout", "60"},
        {"idle_timeout", "5"},
        {"connect_timeout", "10"},
        {"read_timeout", "300"},
        {"log_format", "text"},
        {"signature_reuse_ms", "1000"},
        {"stream_keepalive_ms", "10000"},
        {"config_poll_ms", "1000"},
        {"database", (core::data_dir(ctx) / "aimo.db").string()},
        {"state", ""},
        {"state_lease_ms", "30000"},
        {"ui_admin", "false"},
    };
}
} // namespace

std::filesystem::path Config::cache_file() const {
    return cache::file_path(cache, database == "off" ? std::filesystem::path()
                                                     : std::filesystem::path(database));
}

routing::RoutingConfig Config::routing(const core::EnvLookup& env) const {
    return file.routing({router.url, router.timeouts}, env);
}

Config load(const core::Context& ctx, const std::map<std::string, std::string>& flags) {
    Config config;
    config.path = core::config_file_path(ctx);
    config.file = ConfigFile::read(config.path, core::config_dir(ctx));
    core::SettingsLayers layers;
    layers.flags = flags;
    layers.env = [&ctx](std::string_view name) { return ctx.getenv(name); };
    layers.file = config.file.settings();
    layers.file_path = config.path.string();
    layers.defaults = defaults(ctx);
    config.sources = core::resolve_settings(layers);
    const auto& s = config.sources;
    config.router = router(s);
    config.server = server(s);
    config.models_cache_ttl = seconds(s, "models_cache_ttl", 0, 86400);
    config.stream_keepalive = millis(s, "stream_keepalive_ms", 3'600'000);
    config.config_poll = millis(s, "config_poll_ms", 3'600'000);
    config.database = s.value("database");
    if (const auto& state = s.get("state"); !state.value.empty()) {
        try {
            config.state = state::parse_redis_url(state.value);
        } catch (const core::Error& e) {
            core::Error located(core::ErrorKind::usage,
                                fmt::format("{} (from {})", e.what(), state.origin), e.hint());
            throw bad(state, located);
        }
    }
    config.state_lease = std::chrono::milliseconds(whole(s, "state_lease_ms", 100, 3'600'000));
    config.cache = config.file.cache();
    config.ui_admin = boolean(s, "ui_admin");
    return config;
}

routing::RoutingConfig reread_routing(const core::Context& ctx, const Config& running) {
    auto env = [&ctx](std::string_view name) { return ctx.getenv(name); };
    return ConfigFile::read(running.path, core::config_dir(ctx))
        .routing({running.router.url, running.router.timeouts}, env);
}

int connect_port(const Config& config) {
    if (config.server.port == 0) {
        const auto& origin = config.sources.get("port").origin;
        throw core::Error(core::ErrorKind::usage,
                          fmt::format("port 0 (from {}) means 'any free port', which only "
                                      "'aimo serve' can use",
                                      origin),
                          "pass the port the proxy listens on, e.g. --port 8080");
    }
    return config.server.port;
}

} // namespace aimo::config
