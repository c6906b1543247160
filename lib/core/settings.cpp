#include "core/settings.hpp"

#include "core/error.hpp"
#include "core/paths.hpp"

#include <charconv>
#include <fmt/format.h>

namespace aimo::core {

std::string_view to_string(SettingSource source) {
    switch (source) {
    case SettingSource::flag:
        return "flag";
    case SettingSource::environment:
        return "environment";
    case SettingSource::config_file:
        return "config file";
    case SettingSource::default_value:
        return "default";
    }
    return "default";
}

const std::vector<SettingSpec>& setting_specs() {
    static const std::vector<SettingSpec> specs = {
        {"keypair", "AIMO_KEYPAIR", "--keypair", "ed25519 keypair file (Solana CLI format)"},
        {"router_url", "AIMO_ROUTER_URL", "--router-url", "AiMo router base URL"},
        {"chain_id", "AIMO_CHAIN_ID", "--chain-id", "CAIP-2 chain id written into signatures"},
        {"ca_file", "AIMO_CA_FILE", "--ca-file",
         "PEM file of CA certificates to trust for https upstreams (default: the system's)"},
        {"host", "AIMO_HOST", "--host", "address the proxy listens on"},
        {"port", "AIMO_PORT", "--port", "port the proxy listens on (0 picks a free one)"},
        {"models_cache_ttl", "AIMO_MODELS_CACHE_TTL", "--models-cache-ttl",
         "seconds the proxy caches the router's model list"},
        {"max_body_bytes", "AIMO_MAX_BODY_BYTES", "--max-body-bytes",
         "largest request body the proxy accepts"},
        {"drain_timeout", "AIMO_DRAIN_TIMEOUT", "--drain-timeout",
         "seconds in-flight requests may take to finish on shutdown"},
        {"max_connections", "AIMO_MAX_CONNECTIONS", "--max-connections",
         "open client connections the proxy accepts; past it a client gets 503 (/health still "
         "answers)"},
        {"header_timeout", "AIMO_HEADER_TIMEOUT", "--header-timeout",
         "seconds a client has to send a whole request head"},
        {"body_timeout", "AIMO_BODY_TIMEOUT", "--body-timeout",
         "seconds a client has to send a whole request body"},
        {"idle_timeout", "AIMO_IDLE_TIMEOUT", "--idle-timeout",
         "seconds a kept-alive client connection may wait for its next request"},
        {"connect_timeout", "AIMO_CONNECT_TIMEOUT", "--connect-timeout",
         "seconds to wait for an upstream connection"},
        {"read_timeout", "AIMO_READ_TIMEOUT", "--read-timeout",
         "seconds to wait for upstream bytes (first byte and gaps between chunks)"},
        {"log_format", "AIMO_LOG_FORMAT", "--log-format", "access log format: text, json or off"},
        {"signature_reuse_ms", "AIMO_SIGNATURE_REUSE_MS", "--signature-reuse-ms",
         "milliseconds a signed header may be reused for the same URL (0: sign every request)"},
        {"stream_keepalive_ms", "AIMO_STREAM_KEEPALIVE_MS", "--stream-keepalive-ms",
         "milliseconds a stream waits for its first upstream byte before SSE keep-alive "
         "comments start, and between them (0: never)"},
        {"database", "AIMO_DATABASE", "--database",
         "SQLite file of agents and the usage ledger ('off': no records, no agents)"},
        {"state", "AIMO_STATE", "--state",
         "Redis server shared by several aimo instances for agents, budgets and rate limits: "
         "redis://[user:password@]host:port/db or unix:///path (empty: this machine alone)"},
        {"state_lease_ms", "AIMO_STATE_LEASE_MS", "--state-lease-ms",
         "milliseconds a request's budget reservation outlives its instance when that dies"},
        {"ui_admin", "AIMO_UI_ADMIN", "--ui-admin",
         "true: the dashboard (/ui) may create and revoke agents and change their limits, with "
         "the owner secret aimo prints once"},
        {"config_poll_ms", "AIMO_CONFIG_POLL_MS", "--config-poll-ms",
         "milliseconds between checks of the config file for changes to reload (0: only on "
         "SIGHUP)"},
    };
    return specs;
}

const SettingValue& Settings::get(std::string_view key) const {
    auto it = m_values.find(std::string(key));
    if (it == m_values.end()) {
        throw std::out_of_range("unknown setting " + std::string(key));
    }
    return it->second;
}

long long Settings::get_int(std::string_view key, long long min, long long max) const {
    const auto& setting = get(key);
    long long number = 0;
    const char* begin = setting.value.data();
    const char* end = begin + setting.value.size();
    auto [ptr, ec] = std::from_chars(begin, end, number);
    if (ec != std::errc() || ptr != end || number < min || number > max) {
        // A bad flag is a usage error; a bad file or variable is a failure to fix there.
        throw Error(setting.source == SettingSource::flag ? ErrorKind::usage
                                                          : ErrorKind::invalid_input,
                    fmt::format("invalid {} '{}' (from {}): expected a whole number from {} to {}",
                                key, setting.value, setting.origin, min, max),
                    fmt::format("fix or remove it in {}", setting.origin));
    }
    return number;
}

Settings resolve_settings(const SettingsLayers& layers) {
    std::map<std::string, SettingValue> values;
    for (const auto& spec : setting_specs()) {
        std::string key(spec.key);
        if (auto it = layers.flags.find(key); it != layers.flags.end()) {
            values[key] = {it->second, SettingSource::flag, std::string(spec.flag)};
            continue;
        }
        if (layers.env) {
            if (auto env = layers.env(spec.env); env && !env->empty()) {
                values[key] = {*env, SettingSource::environment, std::string(spec.env)};
                continue;
            }
        }
        if (auto it = layers.file.find(key); it != layers.file.end()) {
            values[key] = {it->second, SettingSource::config_file, layers.file_path};
            continue;
        }
        auto it = layers.defaults.find(key);
        values[key] = {it == layers.defaults.end() ? std::string() : it->second,
                       SettingSource::default_value, "default"};
    }
    return Settings(std::move(values));
}

std::filesystem::path config_file_path(const Context& ctx) {
    return config_dir(ctx) / "config.toml";
}

} // namespace aimo::core
