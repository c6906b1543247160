#include "core/json.hpp"
#include "list_models.hpp"
#include "registry.hpp"
#include "upstream/chat.hpp"
#include "upstream/router_client.hpp"

#include <ostream>

namespace aimo::commands {

namespace {
struct RouterFlags {
    ListModelsFlags list;
    SettingFlags balance_settings;
    bool balance_json = false;
    CLI::App* list_app = nullptr;
    CLI::App* balance_app = nullptr;
};

int run_get_balance(core::Context& ctx, const RouterFlags& flags) {
    auto client = connect_router(ctx, flags.balance_settings);
    auto balance = upstream::fetch_balance(client->router);
    if (flags.balance_json) {
        *ctx.out << core::json_text(balance) << "\n";
        return 0;
    }
    if (auto amount = upstream::balance_amount(balance)) {
        *ctx.out << "balance: " << *amount << "\n";
        return 0;
    }
    *ctx.out << core::json_text(balance, 2) << "\n";
    return 0;
}
} // namespace

CommandSpec register_router(CLI::App& root) {
    auto flags = std::make_shared<RouterFlags>();
    auto* app = root.add_subcommand("router", "Talk to the AiMo router directly");
    app->require_subcommand(1);
    flags->list_app = app->add_subcommand("list-models", "List the models the router offers");
    add_list_models_flags(*flags->list_app, flags->list);
    flags->balance_app =
        app->add_subcommand("get-balance", "Show your wallet's balance on the router");
    add_router_flags(*flags->balance_app, flags->balance_settings);
    flags->balance_app->add_flag("--json", flags->balance_json, "Print the router's JSON answer");
    return {app, [flags](core::Context& ctx) {
                if (flags->list_app->parsed()) {
                    return run_list_models(ctx, flags->list);
                }
                return run_get_balance(ctx, *flags);
            }};
}

} // namespace aimo::commands
