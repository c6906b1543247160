#include "routing/config.hpp"

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "routing/config_toml.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <set>
#include <system_error>

namespace aimo::routing {

using core::Error;
using core::ErrorKind;

const ProviderConfig* RoutingConfig::provider(std::string_view name) const {
    for (const auto& p : providers) {
        if (p.name == name) {
            return &p;
        }
    }
    return nullptr;
}

const Route* RoutingConfig::route(std::string_view model) const {
    for (const auto& r : routes) {
        if (r.model == model) {
            return &r;
        }
    }
    return nullptr;
}

namespace {

// Reads one TOML table, rejecting keys nobody asked for, with file:line:col in every message.
class Reader {
public:
    Reader(std::string source) : m_source(std::move(source)) {}

    std::string where(const toml::node& node) const { return where(node.source()); }
    std::string where(const toml::source_region& region) const {
        return fmt::format("{}:{}:{}", m_source, region.begin.line, region.begin.column);
    }

    [[noreturn]] void fail(const toml::node& node, const std::string& message,
                           const std::string& hint) const {
        throw Error(ErrorKind::invalid_input, where(node) + ": " + message, hint);
    }

    void only_keys(const toml::table& table, std::string_view what,
                   std::initializer_list<std::string_view> keys) const {
        for (const auto& [key, node] : table) {
            if (std::find(keys.begin(), keys.end(), key.str()) == keys.end()) {
                std::string known;
                for (auto k : keys) {
                    known += known.empty() ? "" : ", ";
                    known += k;
                }
                throw Error(
                    ErrorKind::invalid_input,
                    fmt::format("{}: unknown key '{}' in {}", where(key.source()), key.str(), what),
                    "known keys: " + known);
            }
        }
    }

    std::string string(const toml::node& node, std::string_view key) const {
        if (!node.is_string()) {
            fail(node, fmt::format("'{}' must be a string", key), "put the value in quotes");
        }
        return *node.value<std::string>();
    }

    std::vector<std::string> strings(const toml::node& node, std::string_view key) const {
        const auto* array = node.as_array();
        if (array == nullptr) {
            fail(node, fmt::format("'{}' must be an array of strings", key),
                 fmt::format("for example: {} = [\"a\", \"b\"]", key));
        }
        std::vector<std::string> out;
        for (const auto& item : *array) {
            auto text = string(item, key);
            if (text.empty()) {
                fail(item, fmt::format("'{}' holds an empty string", key), "remove it");
            }
            out.push_back(std::move(text));
        }
        return out;
    }

    // Seconds, whole or fractional; `zero_ok` allows 0 (meaning "no limit").
    milliseconds seconds(const toml::node& node, std::string_view key, bool zero_ok) const {
        double value = 0;
        if (node.is_integer()) {
            value = static_cast<double>(*node.value<int64_t>());
        } else if (node.is_floating_point()) {
            value = *node.value<double>();
        } else {
            fail(node, fmt::format("'{}' must be a number of seconds", key),
                 fmt::format("for example: {} = 30 or {} = 0.5", key, key));
        }
        if (!std::isfinite(value) || value < 0 || (value == 0 && !zero_ok) || value > 86400) {
            fail(node, fmt::format("'{}' = {} is out of range", key, value),
                 zero_ok ? "use 0 (no limit) up to 86400 seconds"
                         : "use a positive number of seconds up to 86400");
        }
        return milliseconds(std::max<int64_t>(1, std::llround(value * 1000)));
    }

    int integer(const toml::node& node, std::string_view key, int min, int max) const {
        if (!node.is_integer() || *node.value<int64_t>() < min || *node.value<int64_t>() > max) {
            fail(node, fmt::format("'{}' must be a whole number from {} to {}", key, min, max),
                 fmt::format("for example: {} = {}", key, min));
        }
        return static_cast<int>(*node.value<int64_t>());
    }

    const toml::table& table(const toml::node& node, std::string_view what) const {
        const auto* t = node.as_table();
        if (t == nullptr) {
            fail(node, fmt::format("'{}' must be a table", what),
                 fmt::format("write it as [{}] followed by key = value lines", what));
        }
        return *t;
    }

private:
    std::string m_source;
};

// The account limits of a provider or one of its models.
sched::Limits read_limits(const Reader& in, const toml::table& table) {
    sched::Limits limits;
    if (const auto* node = table.get("max_in_flight")) {
        limits.max_in_flight = in.integer(*node, "max_in_flight", 1, 100000);
    }
    if (const auto* node = table.get("rpm")) {
        limits.rpm = in.integer(*node, "rpm", 1, 1'000'000); // a log of that many starts
    }
    if (const auto* node = table.get("tpm")) {
        limits.tpm = in.integer(*node, "tpm", 1, 2'000'000'000);
    }
    return limits;
}

ProviderConfig read_provider(const Reader& in, const toml::table& table,
                             const RoutingDefaults& defaults, const core::EnvLookup& env) {
    in.only_keys(table, "[[providers]]",
                 {"name", "kind", "base_url", "api_key_env", "headers", "models", "connect_timeout",
                  "first_byte_timeout", "idle_timeout", "total_timeout", "price_in", "price_out",
                  "max_in_flight", "rpm", "tpm", "model_limits", "queue_timeout", "responses",
                  "anthropic_version"});
    ProviderConfig p;
    p.where = in.where(table);
    const auto* name = table.get("name");
    if (name == nullptr) {
        throw Error(ErrorKind::invalid_input, p.where + ": a [[providers]] entry has no name",
                    "add name = \"…\" (letters, digits, '-', '_', '.')");
    }
    p.name = in.string(*name, "name");
    if (!core::is_simple_name(p.name)) {
        in.fail(*name,
                fmt::format("provider name '{}' may only hold letters, digits, '-', '_' "
                            "and '.'",
                            p.name),
                "it becomes the prefix of model names (<provider>/<model>), so keep it simple");
    }
    std::string kind = "openai";
    if (const auto* node = table.get("kind")) {
        kind = in.string(*node, "kind");
        if (kind != "aimo" && kind != "openai" && kind != "openclaw" && kind != "anthropic") {
            in.fail(*node, fmt::format("provider '{}': unknown kind '{}'", p.name, kind),
                    "use kind = \"aimo\" (the SIWx-signed AiMo router), \"openai\" (any "
                    "OpenAI-compatible base URL), \"openclaw\" (an OpenClaw gateway) or "
                    "\"anthropic\" (the Anthropic Messages API)");
        }
    }
    p.kind = kind == "aimo"        ? ProviderKind::aimo
             : kind == "openclaw"  ? ProviderKind::openclaw
             : kind == "anthropic" ? ProviderKind::anthropic
                                   : ProviderKind::openai;
    p.responses = p.kind == ProviderKind::openclaw;
    if (const auto* node = table.get("base_url")) {
        try {
            p.base_url = upstream::parse_url(in.string(*node, "base_url"),
                                             "base_url of provider '" + p.name + "'");
        } catch (const Error& e) {
            throw Error(ErrorKind::invalid_input, in.where(*node) + ": " + e.what(), e.hint());
        }
    } else if (p.kind == ProviderKind::aimo) {
        p.base_url = defaults.router_url;
    } else if (p.kind == ProviderKind::anthropic) {
        p.base_url = upstream::parse_url("https://api.anthropic.com/v1", "Anthropic's API");
    } else {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: provider '{}' has no base_url", p.where, p.name),
                    "for example: base_url = \"http://127.0.0.1:11434/v1\"");
    }
    if (const auto* node = table.get("api_key_env")) {
        p.api_key_env = in.string(*node, "api_key_env");
        if (p.kind == ProviderKind::aimo) {
            in.fail(*node,
                    fmt::format("provider '{}' is kind \"aimo\", which signs with the "
                                "keypair and takes no API key",
                                p.name),
                    "remove api_key_env");
        }
        auto value = env(p.api_key_env);
        if (!value || value->empty()) {
            in.fail(*node,
                    fmt::format("provider '{}': environment variable {} is not set", p.name,
                                p.api_key_env),
                    fmt::format("export {}=… before starting aimo (the key itself never goes in "
                                "the file)",
                                p.api_key_env));
        }
        p.api_key = *value;
    }
    if (const auto* node = table.get("headers")) {
        for (const auto& [key, value] : in.table(*node, "headers")) {
            std::string header(key.str());
            std::string lower = core::to_lower(header);
            if (lower == "authorization" || lower == "x-api-key" || lower == "api-key") {
                in.fail(value,
                        fmt::format("provider '{}': header '{}' would put a secret in the file",
                                    p.name, header),
                        "use api_key_env = \"NAME_OF_VARIABLE\" instead");
            }
            if (lower == "host" || lower == "content-length" || lower == "sign-in-with-x") {
                in.fail(value,
                        fmt::format("provider '{}': header '{}' is set by aimo", p.name, header),
                        "remove it");
            }
            p.headers.add(header, in.string(value, header));
        }
    }
    if (const auto* node = table.get("models")) {
        p.models = in.strings(*node, "models");
    }
    p.timeouts.connect = defaults.timeouts.connect;
    p.timeouts.first_byte = defaults.timeouts.read;
    p.timeouts.idle = defaults.timeouts.read;
    if (const auto* node = table.get("connect_timeout")) {
        p.timeouts.connect = in.seconds(*node, "connect_timeout", false);
    }
    if (const auto* node = table.get("first_byte_timeout")) {
        p.timeouts.first_byte = in.seconds(*node, "first_byte_timeout", false);
    }
    if (const auto* node = table.get("idle_timeout")) {
        p.timeouts.idle = in.seconds(*node, "idle_timeout", false);
    }
    if (const auto* node = table.get("total_timeout")) {
        p.timeouts.total = in.seconds(*node, "total_timeout", true);
    }
    p.limits = read_limits(in, table);
    if (const auto* node = table.get("model_limits")) {
        for (const auto& [model, limits] : in.table(*node, "model_limits")) {
            const auto& entry = in.table(limits, "model_limits." + std::string(model.str()));
            in.only_keys(entry, "model_limits", {"max_in_flight", "rpm", "tpm"});
            p.model_limits[std::string(model.str())] = read_limits(in, entry);
        }
    }
    if (const auto* node = table.get("responses")) {
        if (!node->is_boolean()) {
            in.fail(*node, fmt::format("provider '{}': responses must be true or false", p.name),
                    "responses = true when the provider serves /v1/responses itself");
        }
        p.responses = node->as_boolean()->get();
    }
    if (const auto* node = table.get("anthropic_version")) {
        p.anthropic_version = in.string(*node, "anthropic_version");
        if (p.kind != ProviderKind::anthropic) {
            in.fail(
                *node,
                fmt::format("provider '{}': anthropic_version is for kind \"anthropic\"", p.name),
                "remove it, or set kind = \"anthropic\"");
        }
    }
    if (const auto* node = table.get("queue_timeout")) {
        p.queue_timeout = in.seconds(*node, "queue_timeout", false);
    }
    for (auto [key, price] : {std::pair{"price_in", &p.price_in}, {"price_out", &p.price_out}}) {
        if (const auto* node = table.get(key)) {
            auto value = node->value<double>();
            if (!value || !(node->is_number()) || *value < 0 || !std::isfinite(*value)) {
                in.fail(*node, fmt::format("'{}' must be a price in USD per million tokens", key),
                        fmt::format("for example: {} = 0.15", key));
            }
            *price = *value;
        }
    }
    return p;
}

Target read_target(const Reader& in, const toml::node& node, const RoutingConfig& config,
                   const std::string& text, std::string_view what) {
    auto slash = text.find('/');
    const ProviderConfig* provider =
        slash == std::string::npos ? nullptr : config.provider(text.substr(0, slash));
    if (provider == nullptr || slash + 1 == text.size()) {
        std::string names;
        for (const auto& p : config.providers) {
            names += names.empty() ? "" : ", ";
            names += p.name;
        }
        in.fail(node,
                slash == std::string::npos || slash + 1 == text.size()
                    ? fmt::format("{} target '{}' is not <provider>/<model>", what, text)
                    : fmt::format("{} target '{}' names provider '{}', which is not configured",
                                  what, text, text.substr(0, slash)),
                fmt::format("write targets as <provider>/<model>; providers: {}", names));
    }
    return {provider->name, text.substr(slash + 1)};
}

void read_routes(const Reader& in, const toml::node& node, RoutingConfig& config) {
    const auto* array = node.as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
        in.fail(node, "'routes' must be an array of tables", "write each route as [[routes]]");
    }
    for (const auto& item : *array) {
        const auto& table = *item.as_table();
        in.only_keys(table, "[[routes]]", {"model", "targets"});
        const auto* model = table.get("model");
        const auto* targets = table.get("targets");
        if (model == nullptr || targets == nullptr) {
            throw Error(ErrorKind::invalid_input,
                        in.where(table) + ": a [[routes]] entry needs model and targets",
                        "for example: model = \"smart\"\n  targets = [\"aimo/deepseek/"
                        "deepseek-v3.2\", \"ollama/llama3.1\"]");
        }
        Route route;
        route.model = in.string(*model, "model");
        if (route.model.empty() || config.route(route.model) != nullptr) {
            in.fail(*model, fmt::format("route '{}' is empty or defined twice", route.model),
                    "give every route its own model name");
        }
        auto names = in.strings(*targets, "targets");
        if (names.empty()) {
            in.fail(*targets, fmt::format("route '{}' has no targets", route.model),
                    "list at least one <provider>/<model>");
        }
        for (size_t i = 0; i < names.size(); ++i) {
            route.targets.push_back(
                read_target(in, *targets->as_array()->get(i), config, names[i], "route"));
        }
        config.routes.push_back(std::move(route));
    }
}

void read_aliases(const Reader& in, const toml::node& node, RoutingConfig& config) {
    const auto& table = in.table(node, "aliases");
    for (const auto& [key, value] : table) {
        std::string name(key.str());
        std::string target = in.string(value, name);
        if (target.empty() || target == name) {
            in.fail(value, fmt::format("alias '{}' points nowhere", name),
                    "write name = \"<provider>/<model>\", a route's model, or a model id");
        }
        config.aliases[name] = target;
    }
    for (const auto& [key, value] : table) {
        const auto& target = config.aliases[std::string(key.str())];
        if (config.aliases.count(target) != 0) {
            in.fail(value,
                    fmt::format("alias '{}' points at another alias ('{}')", key.str(), target),
                    "point it at that alias's target directly");
        }
    }
}

void read_retry(const Reader& in, const toml::node& node, RetryPolicy& retry) {
    const auto& table = in.table(node, "retry");
    in.only_keys(table, "[retry]",
                 {"attempts", "backoff_initial", "backoff_max", "retry_after_max", "deadline"});
    if (const auto* n = table.get("attempts")) {
        retry.attempts = in.integer(*n, "attempts", 1, 20);
    }
    if (const auto* n = table.get("backoff_initial")) {
        retry.backoff_initial = in.seconds(*n, "backoff_initial", true);
    }
    if (const auto* n = table.get("backoff_max")) {
        retry.backoff_max = in.seconds(*n, "backoff_max", true);
    }
    if (const auto* n = table.get("retry_after_max")) {
        retry.retry_after_max = in.seconds(*n, "retry_after_max", true);
    }
    if (const auto* n = table.get("deadline")) {
        retry.deadline = in.seconds(*n, "deadline", false);
    }
}

void read_breaker(const Reader& in, const toml::node& node, BreakerPolicy& breaker) {
    const auto& table = in.table(node, "breaker");
    in.only_keys(table, "[breaker]", {"failures", "cooldown"});
    if (const auto* n = table.get("failures")) {
        breaker.failures = in.integer(*n, "failures", 0, 1000);
    }
    if (const auto* n = table.get("cooldown")) {
        breaker.cooldown = in.seconds(*n, "cooldown", false);
    }
}

ProviderConfig implicit_provider(const RoutingDefaults& defaults) {
    ProviderConfig p;
    p.name = "aimo";
    p.kind = ProviderKind::aimo;
    p.base_url = defaults.router_url;
    p.timeouts.connect = defaults.timeouts.connect;
    p.timeouts.first_byte = defaults.timeouts.read;
    p.timeouts.idle = defaults.timeouts.read;
    p.where = "default";
    return p;
}
} // namespace

std::string_view kind_name(ProviderKind kind) {
    switch (kind) {
    case ProviderKind::aimo:
        return "aimo";
    case ProviderKind::openclaw:
        return "openclaw";
    case ProviderKind::anthropic:
        return "anthropic";
    case ProviderKind::openai:
        break;
    }
    return "openai";
}

const std::vector<std::string_view>& routing_tables() {
    static const std::vector<std::string_view> tables = {"providers", "aliases", "routes", "retry",
                                                         "breaker"};
    return tables;
}

RoutingConfig parse_routing_config(std::string_view text, const std::string& source,
                                   const RoutingDefaults& defaults, const core::EnvLookup& env) {
    toml::table root;
    try {
        root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}:{}:{}: invalid TOML: {}", source, e.source().begin.line,
                                e.source().begin.column, e.description()),
                    "fix the file, or move it away to use the defaults");
    }
    return read_routing_tables(root, source, defaults, env);
}

RoutingConfig read_routing_tables(const toml::table& root, const std::string& source,
                                  const RoutingDefaults& defaults, const core::EnvLookup& env) {
    Reader in(source);
    RoutingConfig config;
    config.retry.attempts = 1; // without a [retry] table errors pass straight through
    if (const auto* node = root.get("providers")) {
        const auto* array = node->as_array();
        if (array == nullptr || !array->is_array_of_tables() || array->empty()) {
            in.fail(*node, "'providers' must be an array of tables",
                    "write each provider as [[providers]]");
        }
        for (const auto& item : *array) {
            auto provider = read_provider(in, *item.as_table(), defaults, env);
            if (config.provider(provider.name) != nullptr) {
                throw Error(ErrorKind::invalid_input,
                            fmt::format("{}: provider '{}' is defined twice", provider.where,
                                        provider.name),
                            "give every provider its own name");
            }
            config.providers.push_back(std::move(provider));
        }
        config.implicit = false;
        config.retry.attempts = RetryPolicy{}.attempts;
    } else {
        config.providers.push_back(implicit_provider(defaults));
    }
    if (const auto* node = root.get("retry")) {
        config.retry.attempts = RetryPolicy{}.attempts;
        read_retry(in, *node, config.retry);
    }
    if (const auto* node = root.get("breaker")) {
        read_breaker(in, *node, config.breaker);
    }
    if (const auto* node = root.get("routes")) {
        read_routes(in, *node, config);
    }
    if (const auto* node = root.get("aliases")) {
        read_aliases(in, *node, config);
    }
    return config;
}

} // namespace aimo::routing
