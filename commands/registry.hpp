#pragma once

#include "common.hpp"

#include <string_view>
#include <vector>

namespace aimo::commands {

/// One entry per top-level command; register_fn adds it to the CLI11 tree.
struct CommandEntry {
    std::string_view name;
    CommandSpec (*register_fn)(CLI::App& root);
};

/// The one explicit list of commands, in the order `aimo --help` shows them.
const std::vector<CommandEntry>& command_registry();

CommandSpec register_keygen(CLI::App& root);
CommandSpec register_address(CLI::App& root);
CommandSpec register_chat(CLI::App& root);
CommandSpec register_serve(CLI::App& root);
CommandSpec register_list_models(CLI::App& root);
CommandSpec register_router(CLI::App& root);
CommandSpec register_connect(CLI::App& root);
CommandSpec register_doctor(CLI::App& root);
CommandSpec register_completion(CLI::App& root);
CommandSpec register_config(CLI::App& root);
CommandSpec register_agent(CLI::App& root);
CommandSpec register_stats(CLI::App& root);
CommandSpec register_audit(CLI::App& root);
CommandSpec register_cache(CLI::App& root);
CommandSpec register_state(CLI::App& root);
CommandSpec register_status(CLI::App& root);

} // namespace aimo::commands
