#include "common.hpp"

#include "state/shared_agents.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <ostream>

namespace aimo::commands {

void add_setting_flag(CLI::App& app, SettingFlags& flags, std::string_view key) {
    for (const auto& spec : core::setting_specs()) {
        if (spec.key == key) {
            std::string name(spec.key);
            app.add_option_function<std::string>(
                   std::string(spec.flag),
                   [&flags, name](const std::string& value) { flags.values[name] = value; },
                   std::string(spec.description) + " [env " + std::string(spec.env) + "]")
                ->type_name(key == "keypair" || key == "ca_file" ? "PATH"
                            : key == "router_url"                ? "URL"
                                                                 : "VALUE");
            return;
        }
    }
    throw std::logic_error("no setting named " + std::string(key));
}

void add_router_flags(CLI::App& app, SettingFlags& flags) {
    for (auto key : {"keypair", "router_url", "chain_id", "ca_file"}) {
        add_setting_flag(app, flags, key);
    }
}

config::Config load_config(const core::Context& ctx, const SettingFlags& flags) {
    return config::load(ctx, flags.values);
}

routing::RoutingConfig load_routing(const core::Context& ctx, const config::Config& config) {
    return config.routing([&ctx](std::string_view name) { return ctx.getenv(name); });
}

governance::Database open_database(core::Context& ctx, const SettingFlags& flags) {
    return governance::Database(governance::database_path(load_config(ctx, flags).database));
}

std::vector<std::unique_ptr<governance::Database>>
open_ledgers(core::Context& ctx, const SettingFlags& flags, const std::vector<std::string>& files) {
    std::vector<std::unique_ptr<governance::Database>> out;
    if (files.empty()) {
        out.push_back(std::make_unique<governance::Database>(
            governance::database_path(load_config(ctx, flags).database)));
        return out;
    }
    for (const auto& file : files) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file, ec)) {
            throw core::Error(core::ErrorKind::usage,
                              fmt::format("ledger '{}' does not exist", file),
                              "name each instance's database file (its --database), e.g. "
                              "--database a.db --database b.db");
        }
        out.push_back(std::make_unique<governance::Database>(file));
    }
    return out;
}

OpenAgents open_agents(core::Context& ctx, const SettingFlags& flags) {
    auto config = load_config(ctx, flags);
    OpenAgents out;
    if (config.state) {
        out.state = std::make_unique<state::StateClient>(*config.state, nullptr);
        out.state->check();
        out.registry = std::make_unique<state::SharedAgents>(*out.state);
    } else {
        out.database =
            std::make_unique<governance::Database>(governance::database_path(config.database));
        out.registry = std::make_unique<governance::AgentStore>(*out.database);
    }
    return out;
}

std::unique_ptr<upstream::RouterClient> connect_router(core::Context& ctx,
                                                       const SettingFlags& flags) {
    auto config = load_config(ctx, flags);
    std::vector<std::string> warnings;
    auto client = upstream::make_router_client(ctx, config.router, warnings);
    for (const auto& warning : warnings) {
        print_warning(ctx, warning);
    }
    return client;
}

int exit_code_for(core::ErrorKind kind) {
    switch (kind) {
    case core::ErrorKind::usage:
        return 2;
    default:
        return 1;
    }
}

namespace {
void print_prefixed(core::Context& ctx, const char* label, const char* color,
                    const std::string& message) {
    bool colored = ctx.color_err();
    *ctx.err << (colored ? color : "") << "aimo: " << label << ":" << (colored ? "\033[0m" : "")
             << " " << message << "\n";
}
} // namespace

int report_error(core::Context& ctx, const core::Error& error) {
    print_prefixed(ctx, "error", "\033[1;31m", error.what());
    if (!error.hint().empty()) {
        *ctx.err << "hint: " << error.hint() << "\n";
    }
    return exit_code_for(error.kind());
}

void print_warning(core::Context& ctx, const std::string& message) {
    print_prefixed(ctx, "warning", "\033[1;33m", message);
}

} // namespace aimo::commands
