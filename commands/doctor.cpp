#include "doctor/doctor.hpp"

#include "core/json.hpp"
#include "registry.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <ostream>

namespace aimo::commands {

namespace {
struct DoctorFlags {
    SettingFlags settings;
    bool json = false;
};

int run_doctor(core::Context& ctx, const DoctorFlags& flags) {
    auto checks = doctor::run_checks(ctx, load_config(ctx, flags.settings));
    bool failed = false;
    for (const auto& check : checks) {
        failed = failed || check.status == doctor::Status::fail;
    }
    if (flags.json) {
        nlohmann::json out = {{"ok", !failed}, {"checks", nlohmann::json::array()}};
        for (const auto& check : checks) {
            out["checks"].push_back({{"name", check.name},
                                     {"status", doctor::to_string(check.status)},
                                     {"message", check.message},
                                     {"fix", check.fix}});
        }
        *ctx.out << core::json_text(out, 2) << "\n";
        return failed ? 1 : 0;
    }
    bool color = ctx.out_is_tty && !ctx.getenv("NO_COLOR");
    for (const auto& check : checks) {
        const char* paint = check.status == doctor::Status::pass   ? "\033[32m"
                            : check.status == doctor::Status::warn ? "\033[33m"
                                                                   : "\033[31m";
        *ctx.out << (color ? paint : "") << doctor::to_string(check.status)
                 << (color ? "\033[0m" : "")
                 << fmt::format("  {:<24} {}\n", check.name, check.message);
        if (!check.fix.empty()) {
            *ctx.out << fmt::format("      {:<24} fix: {}\n", "", check.fix);
        }
    }
    return failed ? 1 : 0;
}
} // namespace

CommandSpec register_doctor(CLI::App& root) {
    auto flags = std::make_shared<DoctorFlags>();
    auto* app = root.add_subcommand("doctor", "Check keypair, router, clock, proxy and OpenClaw");
    add_setting_flag(*app, flags->settings, "port");
    add_setting_flag(*app, flags->settings, "host");
    add_router_flags(*app, flags->settings);
    add_setting_flag(*app, flags->settings, "state");
    app->add_flag("--json", flags->json, "Print the checks as JSON");
    return {app, [flags](core::Context& ctx) { return run_doctor(ctx, *flags); }};
}

} // namespace aimo::commands
