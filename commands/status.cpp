#include "proxy/status.hpp"

#include "proxy/service.hpp"
#include "registry.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <ostream>

namespace aimo::commands {

namespace {
struct StatusFlags {
    SettingFlags settings;
    std::string token;
    bool json = false;
};

std::string limits_text(const proxy::ProviderActivity& p) {
    std::string text;
    auto add = [&](std::string part) {
        text += text.empty() ? "" : ", ";
        text += part;
    };
    if (p.max_in_flight) {
        add(fmt::format("{} at once", *p.max_in_flight));
    }
    if (p.rpm) {
        add(fmt::format("{}/{} rpm", p.window_requests, *p.rpm));
    }
    if (p.tpm) {
        add(fmt::format("{}/{} tpm", p.window_tokens, *p.tpm));
    }
    return text.empty() ? "none" : text;
}

int run_status(core::Context& ctx, const StatusFlags& flags) {
    auto config = load_config(ctx, flags.settings);
    auto base = proxy::local_proxy_url(config.server.host, config::connect_port(config));
    auto providers = proxy::fetch_status(base, flags.token);
    if (flags.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& p : providers) {
            nlohmann::json agents = nlohmann::json::array();
            for (const auto& a : p.agents) {
                agents.push_back(
                    {{"agent", a.agent}, {"in_flight", a.in_flight}, {"queued", a.queued}});
            }
            out.push_back(
                {{"provider", p.provider},
                 {"in_flight", p.in_flight},
                 {"queued", p.queued},
                 {"held_seconds", p.held_seconds},
                 {"limits",
                  {{"max_in_flight",
                    p.max_in_flight ? nlohmann::json(*p.max_in_flight) : nlohmann::json()},
                   {"rpm", p.rpm ? nlohmann::json(*p.rpm) : nlohmann::json()},
                   {"tpm", p.tpm ? nlohmann::json(*p.tpm) : nlohmann::json()}}},
                 {"last_minute", {{"requests", p.window_requests}, {"tokens", p.window_tokens}}},
                 {"agents", agents}});
        }
        *ctx.out << out.dump(2) << "\n";
        return 0;
    }
    size_t width = 8;
    for (const auto& p : providers) {
        width = std::max(width, p.provider.size());
        for (const auto& a : p.agents) {
            width = std::max(width, a.agent.size() + 2);
        }
    }
    *ctx.out << fmt::format("{:<{}}  {:>9} {:>7}  {:<8}  {}\n", "PROVIDER", width, "IN FLIGHT",
                            "QUEUED", "HELD", "LIMITS (USED IN THE LAST MINUTE)");
    for (const auto& p : providers) {
        *ctx.out << fmt::format(
            "{:<{}}  {:>9} {:>7}  {:<8}  {}\n", p.provider, width, p.in_flight, p.queued,
            p.held_seconds > 0 ? fmt::format("{:.1f} s", p.held_seconds) : "-", limits_text(p));
        for (const auto& a : p.agents) {
            *ctx.out << fmt::format("{:<{}}  {:>9} {:>7}\n", "  " + a.agent, width, a.in_flight,
                                    a.queued);
        }
    }
    if (providers.empty()) {
        *ctx.err << "the proxy has no providers yet\n";
    }
    return 0;
}
} // namespace

CommandSpec register_status(CLI::App& root) {
    auto flags = std::make_shared<StatusFlags>();
    auto* app = root.add_subcommand(
        "status", "What the running proxy is doing now: requests out and waiting, by provider "
                  "and agent");
    app->add_option("--token", flags->token,
                    "An agent's token, for a proxy listening beyond loopback");
    app->add_flag("--json", flags->json, "Print JSON");
    add_setting_flag(*app, flags->settings, "port");
    add_setting_flag(*app, flags->settings, "host");
    return {app, [flags](core::Context& ctx) { return run_status(ctx, *flags); }};
}

} // namespace aimo::commands
