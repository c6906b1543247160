#include "openclaw/connect.hpp"

#include "connect_clients.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "openclaw/models_source.hpp"
#include "proxy/service.hpp"
#include "registry.hpp"

#include <nlohmann/json.hpp>
#include <ostream>

namespace aimo::commands {

namespace {
struct ConnectFlags {
    SettingFlags settings;
    std::string model;
    std::string config_path;
    std::string provider_id = "aimo";
    std::string api_key = "aimo-local";
    std::string api = "openai-completions";
    bool no_default = false;
    bool dry_run = false;
    bool json = false;
    bool disconnect = false;
};

void render(core::Context& ctx, const ConnectFlags& flags, const openclaw::ConnectReport& report,
            const std::string& source) {
    const auto& path = report.location.config.string();
    if (flags.json) {
        nlohmann::json out = {{"config", path},
                              {"changed", report.changed},
                              {"created", report.created},
                              {"dry_run", flags.dry_run},
                              {"changes", report.changes},
                              {"primary", report.primary},
                              {"validated", report.validated},
                              {"backup", report.backup.string()},
                              {"models_from", source}};
        out["cleaned_registries"] = nlohmann::json::array();
        for (const auto& registry : report.cleaned_registries) {
            out["cleaned_registries"].push_back(registry.string());
        }
        if (flags.dry_run) {
            out["diff"] = report.diff;
        }
        *ctx.out << core::json_text(out, 2) << "\n";
        return;
    }
    if (flags.dry_run) {
        *ctx.out << (report.diff.empty() ? "(no change)\n" : report.diff);
        *ctx.err << "dry run: nothing written to " << path << "\n";
        return;
    }
    if (!report.changed && report.cleaned_registries.empty()) {
        *ctx.err << (flags.disconnect ? "OpenClaw is not connected to aimo; "
                                      : "OpenClaw is already connected to aimo; ")
                 << path << " is unchanged.\n";
        return;
    }
    *ctx.err << (flags.disconnect ? "Disconnected OpenClaw from aimo"
                                  : "Connected OpenClaw to aimo")
             << " (" << path << (report.created ? ", created" : "") << ")\n";
    for (const auto& change : report.changes) {
        *ctx.err << "  " << change << "\n";
    }
    for (const auto& registry : report.cleaned_registries) {
        *ctx.err << "  removed a stale '" << flags.provider_id << "' entry from "
                 << registry.string() << "\n";
    }
    if (!report.backup.empty()) {
        *ctx.err << "  backup of the original: " << report.backup.string() << "\n";
    }
    if (report.validated) {
        *ctx.err << "  checked with: openclaw config validate\n";
    }
    if (!flags.disconnect) {
        *ctx.err << "Models from " << source << ".\n"
                 << "Next: keep 'aimo chat --serve' running, then try\n"
                 << "  openclaw models status --probe\n"
                 << "  openclaw agent --local -m \"hello\"\n";
    }
}

int run_connect(core::Context& ctx, const ConnectFlags& flags) {
    auto config = load_config(ctx, flags.settings);
    openclaw::ConnectOptions options;
    options.config_override = flags.config_path;
    options.dry_run = flags.dry_run;
    options.request.provider_id = flags.provider_id;
    if (flags.api_key.empty()) {
        throw core::Error(core::ErrorKind::usage, "--api-key must not be empty",
                          "OpenClaw needs a non-empty key; any value works with aimo");
    }
    options.request.api_key = flags.api_key;
    if (flags.disconnect) {
        auto report = openclaw::disconnect(ctx, options);
        render(ctx, flags, report, "");
        return 0;
    }
    auto proxy_url = proxy::local_proxy_url(config.server.host, config::connect_port(config));
    options.request.base_url = proxy_url.join("/v1");
    options.request.api = flags.api;
    options.request.set_default = !flags.no_default;
    if (!flags.model.empty()) {
        options.request.primary = flags.model;
    }
    std::string source;
    try {
        auto list = openclaw::fetch_models(ctx, options.request.base_url, config, flags.api_key);
        options.request.models = std::move(list.models);
        source = list.source;
    } catch (const core::Error& e) {
        if (flags.model.empty()) {
            throw;
        }
        print_warning(ctx, std::string(e.what()) + "; configuring only --model " + flags.model);
        options.request.models = {{flags.model, flags.model}};
        source = "--model";
    }
    if (!flags.model.empty()) {
        bool known = false;
        for (const auto& m : options.request.models) {
            known = known || m.id == flags.model;
        }
        if (!known) {
            throw core::Error(core::ErrorKind::usage,
                              "model '" + flags.model + "' is not in the catalogue from " + source,
                              "see 'aimo list-models' for the ids");
        }
    }
    if (flags.api == "anthropic-messages") {
        options.request.base_url = proxy_url.origin(); // Anthropic clients add /v1/messages
    }
    render(ctx, flags, openclaw::connect(ctx, options), source);
    return 0;
}
} // namespace

CommandSpec register_connect(CLI::App& root) {
    auto flags = std::make_shared<ConnectFlags>();
    auto* app = root.add_subcommand("connect", "Point an agent runtime at the aimo proxy");
    app->require_subcommand(1);
    auto* openclaw = app->add_subcommand(
        "openclaw", "Add aimo as a provider in OpenClaw's config (backed up, validated, undoable)");
    openclaw->add_option("--model", flags->model, "Model id to make OpenClaw's default");
    add_setting_flag(*openclaw, flags->settings, "port");
    add_setting_flag(*openclaw, flags->settings, "host");
    add_router_flags(*openclaw, flags->settings);
    openclaw->add_option("--config-path", flags->config_path, "OpenClaw config file to edit");
    openclaw->add_option("--provider-id", flags->provider_id, "Provider id in OpenClaw")
        ->capture_default_str();
    openclaw->add_option("--api-key", flags->api_key, "Key OpenClaw sends (any non-empty value)")
        ->capture_default_str();
    openclaw
        ->add_option("--api", flags->api,
                     "Which of aimo's dialects OpenClaw speaks: chat completions, the Responses "
                     "API or Anthropic Messages")
        ->check(CLI::IsMember({"openai-completions", "openai-responses", "anthropic-messages"}))
        ->capture_default_str();
    openclaw->add_flag("--no-default", flags->no_default,
                       "Add the provider, keep the default model");
    openclaw->add_flag("--dry-run", flags->dry_run, "Print the change as a diff; write nothing");
    openclaw->add_flag("--json", flags->json, "Print what was done as JSON");
    openclaw->add_flag("--disconnect", flags->disconnect,
                       "Undo: restore the backup, or remove only what aimo added");
    auto run_client = register_connect_clients(*app);
    return {app, [flags, openclaw, run_client](core::Context& ctx) {
                if (openclaw->parsed()) {
                    return run_connect(ctx, *flags);
                }
                return run_client(ctx);
            }};
}

} // namespace aimo::commands
