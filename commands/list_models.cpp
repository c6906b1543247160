#include "list_models.hpp"

#include "core/json.hpp"
#include "registry.hpp"
#include "routing/loader.hpp"
#include "upstream/catalogue.hpp"
#include "upstream/router_client.hpp"

#include <fmt/format.h>
#include <ostream>

namespace aimo::commands {

namespace {
std::string price(const std::optional<double>& value) {
    return value ? fmt::format("{:.2f}", *value) : "-";
}
} // namespace

void add_list_models_flags(CLI::App& app, ListModelsFlags& flags) {
    add_router_flags(app, flags.settings);
    app.add_flag("--json", flags.json, "Print the OpenAI-shaped model list as JSON");
}

int run_list_models(core::Context& ctx, const ListModelsFlags& flags) {
    auto config = load_config(ctx, flags.settings);
    auto models = routing::fetch_configured_models(ctx, config.router, load_routing(ctx, config),
                                                   config.path);
    for (const auto& warning : models.warnings) {
        print_warning(ctx, warning);
    }
    const auto& catalogue = models.catalogue->catalogue;
    if (flags.json) {
        *ctx.out << core::json_text(upstream::to_openai_list(catalogue), 2) << "\n";
        return 0;
    }
    size_t width = 2;
    for (const auto& model : catalogue.models) {
        width = std::max(width, model.id.size());
    }
    *ctx.out << fmt::format("{:<{}}  {:>9}  {:>9}  {:>9}\n", "ID", width, "CONTEXT", "$/M IN",
                            "$/M OUT");
    for (const auto& model : catalogue.models) {
        *ctx.out << fmt::format(
            "{:<{}}  {:>9}  {:>9}  {:>9}\n", model.id, width,
            model.context_length ? std::to_string(*model.context_length) : std::string("-"),
            price(model.prompt_usd_per_million), price(model.completion_usd_per_million));
    }
    *ctx.err << catalogue.models.size() << " models\n";
    return 0;
}

CommandSpec register_list_models(CLI::App& root) {
    auto flags = std::make_shared<ListModelsFlags>();
    auto* app = root.add_subcommand(
        "list-models", "List the models the router (or every configured provider) offers");
    add_list_models_flags(*app, *flags);
    return {app, [flags](core::Context& ctx) { return run_list_models(ctx, *flags); }};
}

} // namespace aimo::commands
