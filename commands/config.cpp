#include "routing/config.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "registry.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <ostream>

namespace aimo::commands {

namespace {
struct ConfigFlags {
    SettingFlags settings;
    bool json = false;
    CLI::App* path = nullptr;
    CLI::App* show = nullptr;
};

int run_path(core::Context& ctx) {
    auto path = core::config_file_path(ctx);
    *ctx.out << path.string() << "\n";
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        *ctx.err << "(it does not exist yet; every setting has its default or comes from flags "
                    "and AIMO_* variables)\n";
    }
    return 0;
}

std::string seconds(std::chrono::milliseconds value) {
    return fmt::format("{:g}", static_cast<double>(value.count()) / 1000.0);
}

nlohmann::json routing_json(const routing::RoutingConfig& config) {
    nlohmann::json providers = nlohmann::json::array();
    for (const auto& p : config.providers) {
        nlohmann::json headers = nlohmann::json::object();
        for (const auto& [name, value] : p.headers) {
            headers[name] = value;
        }
        providers.push_back(
            {{"name", p.name},
             {"kind", routing::kind_name(p.kind)},
             {"base_url", p.base_url.origin() + p.base_url.path},
             {"api_key_env", p.api_key_env},
             {"headers", headers},
             {"models", p.models.empty() ? nlohmann::json("discovered") : nlohmann::json(p.models)},
             {"timeouts",
              {{"connect", seconds(p.timeouts.connect)},
               {"first_byte", seconds(p.timeouts.first_byte)},
               {"idle", seconds(p.timeouts.idle)},
               {"total", seconds(p.timeouts.total)}}}});
    }
    nlohmann::json routes = nlohmann::json::object();
    for (const auto& route : config.routes) {
        auto& targets = routes[route.model] = nlohmann::json::array();
        for (const auto& target : route.targets) {
            targets.push_back(target.name());
        }
    }
    return {
        {"implicit", config.implicit},
        {"providers", providers},
        {"aliases", config.aliases},
        {"routes", routes},
        {"retry",
         {{"attempts", config.retry.attempts},
          {"backoff_initial", seconds(config.retry.backoff_initial)},
          {"backoff_max", seconds(config.retry.backoff_max)},
          {"retry_after_max", seconds(config.retry.retry_after_max)},
          {"deadline", seconds(config.retry.deadline)}}},
        {"breaker",
         {{"failures", config.breaker.failures}, {"cooldown", seconds(config.breaker.cooldown)}}}};
}

void print_routing(std::ostream& out, const routing::RoutingConfig& config) {
    out << (config.implicit ? "\nproviders (none configured: the router alone)\n"
                            : "\nproviders\n");
    for (const auto& p : config.providers) {
        out << fmt::format("  {:<12} {:<8} {}{}", p.name, routing::kind_name(p.kind),
                           p.base_url.origin(), p.base_url.path);
        if (!p.api_key_env.empty()) {
            out << "  key from $" << p.api_key_env;
        }
        out << fmt::format("  models: {}", p.models.empty()
                                               ? std::string("discovered")
                                               : fmt::format("{}", fmt::join(p.models, ", ")));
        out << fmt::format(
            "  timeouts: connect {}s, first byte {}s, idle {}s, total {}\n",
            seconds(p.timeouts.connect), seconds(p.timeouts.first_byte), seconds(p.timeouts.idle),
            p.timeouts.total.count() == 0 ? "none" : seconds(p.timeouts.total) + "s");
    }
    for (const auto& [alias, target] : config.aliases) {
        out << fmt::format("alias  {} -> {}\n", alias, target);
    }
    for (const auto& route : config.routes) {
        std::vector<std::string> names;
        for (const auto& target : route.targets) {
            names.push_back(target.name());
        }
        out << fmt::format("route  {} -> {}\n", route.model, fmt::join(names, " -> "));
    }
    out << fmt::format("retry  {} attempt(s) per target, backoff {}s..{}s, Retry-After up to {}s, "
                       "deadline {}s\n",
                       config.retry.attempts, seconds(config.retry.backoff_initial),
                       seconds(config.retry.backoff_max), seconds(config.retry.retry_after_max),
                       seconds(config.retry.deadline));
    out << fmt::format("breaker  opens after {} failures, probes after {}s\n",
                       config.breaker.failures, seconds(config.breaker.cooldown));
}

int run_show(core::Context& ctx, const ConfigFlags& flags) {
    auto config = load_config(ctx, flags.settings);
    const auto& settings = config.sources;
    auto routing_config = load_routing(ctx, config);
    if (flags.json) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& spec : core::setting_specs()) {
            const auto& value = settings.get(spec.key);
            out[std::string(spec.key)] = {{"value", value.value},
                                          {"source", core::to_string(value.source)},
                                          {"origin", value.origin}};
        }
        out["routing"] = routing_json(routing_config);
        *ctx.out << core::json_text(out, 2) << "\n";
        return 0;
    }
    size_t width = 0;
    for (const auto& spec : core::setting_specs()) {
        width = std::max(width, spec.key.size());
    }
    for (const auto& spec : core::setting_specs()) {
        const auto& value = settings.get(spec.key);
        std::string from =
            value.source == core::SettingSource::default_value
                ? "default"
                : fmt::format("{} ({})", core::to_string(value.source), value.origin);
        *ctx.out << fmt::format("{:<{}}  {}  [{}]\n", spec.key, width,
                                value.value.empty() ? "(empty)" : value.value, from);
    }
    print_routing(*ctx.out, routing_config);
    return 0;
}

int run_check(core::Context& ctx, const ConfigFlags& flags) {
    // Loading validates the file (syntax, keys, types) and every value's meaning.
    auto config = load_config(ctx, flags.settings);
    load_routing(ctx, config);
    const auto& path = config.path;
    std::error_code ec;
    *ctx.out << (std::filesystem::exists(path, ec) ? "ok: " + path.string() + " is valid"
                                                   : "ok: no config file; defaults apply")
             << "\n";
    return 0;
}
} // namespace

CommandSpec register_config(CLI::App& root) {
    auto flags = std::make_shared<ConfigFlags>();
    auto* app = root.add_subcommand("config", "Show where settings come from, and check them");
    app->require_subcommand(1);
    flags->path = app->add_subcommand("path", "Print the config file's path");
    flags->show = app->add_subcommand("show", "Print every setting, its value and its source");
    flags->show->add_flag("--json", flags->json, "Print the settings as JSON");
    auto* check = app->add_subcommand("check", "Validate the config file and every setting");
    for (auto* sub : {flags->show, check}) {
        for (const auto& spec : core::setting_specs()) {
            add_setting_flag(*sub, flags->settings, spec.key);
        }
    }
    return {app, [flags](core::Context& ctx) {
                if (flags->path->parsed()) {
                    return run_path(ctx);
                }
                return flags->show->parsed() ? run_show(ctx, *flags) : run_check(ctx, *flags);
            }};
}

} // namespace aimo::commands
