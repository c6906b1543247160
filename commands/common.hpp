#pragma once

#include "config/config.hpp"
#include "core/context.hpp"
#include "core/error.hpp"
#include "core/settings.hpp"
#include "governance/agents.hpp"
#include "governance/db.hpp"
#include "state/client.hpp"
#include "upstream/router_client.hpp"

#include <CLI/CLI.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace aimo::commands {

/// What a command's register_<name> returns: its CLI11 node and the function that runs it
/// after parsing has finished.
struct CommandSpec {
    CLI::App* app = nullptr;
    std::function<int(core::Context&)> run;
};

/// Setting overrides given as flags, keyed by setting key (see core::setting_specs()).
struct SettingFlags {
    std::map<std::string, std::string> values;
};

/// Adds the flag for setting `key` (e.g. "keypair" -> --keypair) to `app`; its value is only
/// recorded in `flags`, resolution happens later in config::load.
void add_setting_flag(CLI::App& app, SettingFlags& flags, std::string_view key);

/// Adds the flags of the settings a router client needs (--keypair, --router-url, --chain-id,
/// --ca-file).
void add_router_flags(CLI::App& app, SettingFlags& flags);

/// Every setting, with these flags over the environment, the config file and the defaults.
config::Config load_config(const core::Context& ctx, const SettingFlags& flags);

/// The routing tables of `config`'s file, their api_key_env variables from the environment.
routing::RoutingConfig load_routing(const core::Context& ctx, const config::Config& config);

/// The agents and ledger database the `database` setting (flag, AIMO_DATABASE, config) names.
/// Throws core::Error(usage) when it is switched off.
governance::Database open_database(core::Context& ctx, const SettingFlags& flags);

/// The ledgers `files` names (each must exist), or the one the `database` setting names when
/// `files` is empty: what `stats` and `audit verify` read.
std::vector<std::unique_ptr<governance::Database>>
open_ledgers(core::Context& ctx, const SettingFlags& flags, const std::vector<std::string>& files);

/// Where `aimo agent` finds the agents: the state server when `state` is set, else the
/// database; each held open as long as this lives.
struct OpenAgents {
    std::unique_ptr<governance::Database> database;
    std::unique_ptr<state::StateClient> state;
    std::unique_ptr<governance::AgentRegistry> registry;
};
/// Opens them. Throws core::Error: the database switched off, the state server unreachable.
OpenAgents open_agents(core::Context& ctx, const SettingFlags& flags);

/// Loads the keypair (printing its warnings) and returns a signing router client.
std::unique_ptr<upstream::RouterClient> connect_router(core::Context& ctx,
                                                       const SettingFlags& flags);

/// Prints `aimo: error: …` and the hint to stderr; returns the exit code for the error.
int report_error(core::Context& ctx, const core::Error& error);

/// Prints `aimo: warning: …` to stderr.
void print_warning(core::Context& ctx, const std::string& message);

/// 0 ok, 1 failure, 2 usage. (130 is SIGINT's own: only serve catches it, to drain and exit 0.)
int exit_code_for(core::ErrorKind kind);

} // namespace aimo::commands
