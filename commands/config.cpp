#include "core/error.hpp"
#include "proxy/service.hpp"
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

int run_show(core::Context& ctx, const ConfigFlags& flags) {
    auto settings = core::load_settings(ctx, flags.settings.values);
    if (flags.json) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& spec : core::setting_specs()) {
            const auto& value = settings.get(spec.key);
            out[std::string(spec.key)] = {{"value", value.value},
                                          {"source", core::to_string(value.source)},
                                          {"origin", value.origin}};
        }
        *ctx.out << out.dump(2) << "\n";
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
    return 0;
}

int run_check(core::Context& ctx, const ConfigFlags& flags) {
    // Reading validates the file (syntax, keys, types); proxy_config every value's meaning.
    auto settings = core::load_settings(ctx, flags.settings.values);
    proxy::proxy_config(settings);
    auto path = core::config_file_path(ctx);
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
