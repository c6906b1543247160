#include "connect_clients.hpp"

#include "clients/claude_code.hpp"
#include "clients/codex.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "openclaw/models_source.hpp"
#include "proxy/service.hpp"

#include <nlohmann/json.hpp>
#include <ostream>

namespace aimo::commands {

namespace {
struct ClientFlags {
    SettingFlags settings;
    std::string model;
    std::string api_key = "aimo-local";
    std::string profile = "aimo";
    bool write = false;
    bool json = false;
    bool disconnect = false;
};

// The proxy's root URL, the key, and the model: --model, else the catalogue's first.
clients::ClientSetup setup_of(core::Context& ctx, const ClientFlags& flags) {
    if (flags.api_key.empty()) {
        throw core::Error(core::ErrorKind::usage, "--api-key must not be empty",
                          "any value works while aimo has no agents; else an agent's token");
    }
    auto config = load_config(ctx, flags.settings);
    clients::ClientSetup setup;
    setup.proxy_root =
        proxy::local_proxy_url(config.server.host, config::connect_port(config)).origin();
    setup.api_key = flags.api_key;
    setup.model = flags.model;
    if (setup.model.empty()) {
        auto list = openclaw::fetch_models(ctx, setup.proxy_root + "/v1", config, flags.api_key);
        if (list.models.empty()) {
            throw core::Error(core::ErrorKind::usage,
                              "the catalogue from " + list.source + " lists no models",
                              "name one with --model");
        }
        setup.model = list.models.front().id;
        print_warning(ctx, "no --model given; using " + setup.model + " from " + list.source);
    }
    return setup;
}

int render(core::Context& ctx, const ClientFlags& flags, const clients::ClientReport& report,
           std::string_view client, std::string_view next) {
    if (flags.json) {
        *ctx.out << core::json_text(nlohmann::json{{"path", report.path.string()},
                                                   {"written", report.written},
                                                   {"changes", report.changes},
                                                   {"backup", report.backup.string()},
                                                   {"content", report.content}},
                                    2)
                 << "\n";
        return 0;
    }
    if (flags.disconnect) {
        *ctx.err << (report.written ? "Disconnected " : "Nothing of aimo's to undo for ") << client
                 << " (" << report.path.string() << ")\n";
    } else if (!flags.write) {
        *ctx.out << report.content;
        *ctx.err << "This belongs in " << report.path.string()
                 << "; run again with --write to put it there (backed up, undo with "
                    "--disconnect).\n";
        return 0;
    } else if (report.written) {
        *ctx.err << "Connected " << client << " to aimo (" << report.path.string() << ")\n";
    } else {
        *ctx.err << client << " is already connected to aimo; " << report.path.string()
                 << " is unchanged.\n";
    }
    for (const auto& change : report.changes) {
        *ctx.err << "  " << change << "\n";
    }
    if (!report.backup.empty()) {
        *ctx.err << "  backup of the original: " << report.backup.string() << "\n";
    }
    if (!flags.disconnect) {
        *ctx.err << "Next: keep 'aimo chat --serve' running, then run " << next << "\n";
    }
    return 0;
}

CLI::App* add_client(CLI::App& connect, const char* name, const char* description,
                     ClientFlags& flags) {
    auto* app = connect.add_subcommand(name, description);
    app->add_option("--model", flags.model, "Model the client asks for (default: the first)");
    add_setting_flag(*app, flags.settings, "port");
    add_setting_flag(*app, flags.settings, "host");
    add_router_flags(*app, flags.settings);
    app->add_option("--api-key", flags.api_key, "Key the client sends (an agent token, or any)")
        ->capture_default_str();
    app->add_flag("--write", flags.write, "Write it into the client's settings (else print it)");
    app->add_flag("--json", flags.json, "Print what was done as JSON");
    app->add_flag("--disconnect", flags.disconnect, "Undo what --write did");
    return app;
}
} // namespace

std::function<int(core::Context&)> register_connect_clients(CLI::App& connect) {
    auto claude_flags = std::make_shared<ClientFlags>();
    auto codex_flags = std::make_shared<ClientFlags>();
    auto* claude =
        add_client(connect, "claude-code",
                   "Point Claude Code at aimo's Anthropic Messages endpoint", *claude_flags);
    auto* codex = add_client(connect, "codex", "Give Codex an aimo profile (the Responses API)",
                             *codex_flags);
    codex->add_option("--profile", codex_flags->profile, "Name of the Codex profile")
        ->capture_default_str();
    return [=](core::Context& ctx) {
        if (claude->parsed()) {
            const auto& flags = *claude_flags;
            auto report = flags.disconnect ? clients::disconnect_claude_code(ctx)
                                           : clients::connect_claude_code(ctx, setup_of(ctx, flags),
                                                                          flags.write);
            return render(ctx, flags, report, "Claude Code", "claude");
        }
        if (codex->parsed()) {
            const auto& flags = *codex_flags;
            auto report = flags.disconnect ? clients::disconnect_codex(ctx, flags.profile)
                                           : clients::connect_codex(ctx, setup_of(ctx, flags),
                                                                    flags.profile, flags.write);
            return render(ctx, flags, report, "Codex", "codex --profile " + flags.profile);
        }
        return -1;
    };
}

} // namespace aimo::commands
