#include "serve.hpp"

#include "proxy/service.hpp"
#include "registry.hpp"

#include <ostream>

namespace aimo::commands {

void add_serve_flags(CLI::App& app, ServeFlags& flags) {
    // The proxy uses every setting.
    for (const auto& spec : core::setting_specs()) {
        add_setting_flag(app, flags.settings, spec.key);
    }
    app.add_flag("--require-auth", flags.require_auth,
                 "Demand an agent token on every request, even before any agent exists");
    app.add_flag("--insecure-no-auth", flags.insecure_no_auth,
                 "Allow a non-loopback --host without authentication (anyone who can reach it "
                 "spends your balance)");
}

int run_serve(core::Context& ctx, const ServeFlags& flags) {
    auto config = load_config(ctx, flags.settings);
    proxy::ServeChoices choices{flags.require_auth, flags.insecure_no_auth};
    bool drained = proxy::run_proxy(ctx, config, choices, [&ctx](const proxy::ProxyReady& ready) {
        for (const auto& warning : ready.warnings) {
            print_warning(ctx, warning);
        }
        if (!ready.loopback && !ready.auth_required) {
            print_warning(ctx, "listening beyond this machine with no authentication: anyone who "
                               "can reach " +
                                   ready.base_url +
                                   " spends your wallet's balance; use --host 127.0.0.1 unless "
                                   "a firewall protects the port");
        }
        *ctx.err << "aimo proxy ready\n"
                 << "  base URL: " << ready.base_url << "\n";
        if (!ready.address.empty()) {
            *ctx.err << "  wallet:   " << ready.address << "\n";
        }
        if (ready.providers.empty()) {
            *ctx.err << "  router:   " << ready.router << "\n";
        }
        for (const auto& provider : ready.providers) {
            *ctx.err << "  provider: " << provider << "\n";
        }
        std::string base = ready.base_url.substr(0, ready.base_url.size() - 3);
        *ctx.err << "  dashboard: " << base << "/ui"
                 << (ready.owner_actions ? " (owner actions on)" : "") << "\n";
        if (!ready.owner_secret.empty()) {
            *ctx.err << "  owner secret (shown only now; the dashboard's owner actions ask for "
                        "it): "
                     << ready.owner_secret << "\n";
        }
        if (!ready.state.empty()) {
            *ctx.err << "  state:    " << ready.state << " (agents, budgets and limits shared)\n";
        }
        *ctx.err << "Point OpenAI clients at the base URL with any API key. Ctrl-C stops; "
                    "SIGHUP or saving "
                 << ready.config_file << " reloads providers and routes.\n";
        ctx.err->flush();
    });
    if (!drained) {
        print_warning(ctx, "drain timeout reached; some requests were cut off");
    }
    *ctx.err << "aimo proxy stopped\n";
    return 0;
}

CommandSpec register_serve(CLI::App& root) {
    auto flags = std::make_shared<ServeFlags>();
    auto* app = root.add_subcommand("serve", "Run the local OpenAI-compatible proxy (same as "
                                             "'aimo chat --serve')");
    add_serve_flags(*app, *flags);
    return {app, [flags](core::Context& ctx) { return run_serve(ctx, *flags); }};
}

} // namespace aimo::commands
