#include "core/error.hpp"
#include "core/json.hpp"
#include "registry.hpp"
#include "state/inspect.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <ostream>

namespace aimo::commands {

namespace {
struct StateFlags {
    SettingFlags settings;
    bool json = false;
    CLI::App* show = nullptr;
    CLI::App* import = nullptr;
};

std::unique_ptr<state::StateClient> connect_state(const config::Config& config) {
    if (!config.state) {
        throw core::Error(core::ErrorKind::usage, "no state server is set",
                          "pass --state redis://HOST:PORT, set AIMO_STATE, or state = \"…\" in "
                          "config.toml");
    }
    auto client = std::make_unique<state::StateClient>(*config.state, nullptr);
    client->check();
    return client;
}

int run_show(core::Context& ctx, const StateFlags& flags) {
    auto config = load_config(ctx, flags.settings);
    auto client = connect_state(config);
    auto status = state::inspect(*client);
    std::string persistence = !status.appendonly   ? "unknown (the server refuses CONFIG)"
                              : *status.appendonly ? "appendonly yes"
                                                   : "appendonly no";
    if (flags.json) {
        nlohmann::json out = {{"address", status.address},
                              {"redis_version", status.server_version},
                              {"schema", status.schema},
                              {"agents", status.agents},
                              {"save", status.save}};
        out["appendonly"] = status.appendonly ? nlohmann::json(*status.appendonly) : nullptr;
        *ctx.out << core::json_text(out, 2) << "\n";
        return 0;
    }
    *ctx.out << fmt::format("server:       {} (redis {})\n", status.address, status.server_version);
    *ctx.out << fmt::format("schema:       {}\n",
                            status.schema.empty() ? "none yet (nothing stored)" : status.schema);
    *ctx.out << fmt::format("agents:       {}\n", status.agents);
    *ctx.out << fmt::format("persistence:  {}{}\n", persistence,
                            status.save.empty() ? "" : ", snapshots " + status.save);
    return 0;
}

int run_import(core::Context& ctx, const StateFlags& flags) {
    auto config = load_config(ctx, flags.settings);
    auto client = connect_state(config);
    governance::Database db(governance::database_path(config.database));
    governance::AgentStore local(db);
    state::SharedAgents shared(*client);
    auto result = state::import_agents(local, shared);
    if (flags.json) {
        *ctx.out << core::json_text(
                        nlohmann::json{{"added", result.added}, {"skipped", result.skipped}}, 2)
                 << "\n";
        return 0;
    }
    for (const auto& name : result.added) {
        *ctx.out << "added    " << name << "\n";
    }
    for (const auto& name : result.skipped) {
        *ctx.out << "skipped  " << name << " (the state server has an agent of that name)\n";
    }
    *ctx.err << fmt::format("{} agent{} copied from {} to {}; their tokens work on every "
                            "instance that uses it\n",
                            result.added.size(), result.added.size() == 1 ? "" : "s",
                            db.path().string(), client->address().display());
    return 0;
}
} // namespace

CommandSpec register_state(CLI::App& root) {
    auto flags = std::make_shared<StateFlags>();
    auto* app =
        root.add_subcommand("state", "The Redis server several aimo instances share agents in");
    app->require_subcommand(1);
    flags->show = app->add_subcommand("show", "What the state server holds and how it persists");
    flags->import = app->add_subcommand(
        "import", "Copy this machine's agents and their spending into the state server, once");
    for (auto* sub : {flags->show, flags->import}) {
        sub->add_flag("--json", flags->json, "Print JSON");
        add_setting_flag(*sub, flags->settings, "state");
    }
    add_setting_flag(*flags->import, flags->settings, "database");
    return {app, [flags](core::Context& ctx) {
                return flags->show->parsed() ? run_show(ctx, *flags) : run_import(ctx, *flags);
            }};
}

} // namespace aimo::commands
