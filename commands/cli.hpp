#pragma once

#include "core/context.hpp"

#include <string>
#include <vector>

namespace aimo::commands {

/// Parses `args` (without the program name), runs the chosen command and returns the process
/// exit code: 0 ok, 1 failure, 2 usage error. Ctrl-C ends other commands the default way, which
/// the shell reports as 130; serve catches it to drain and exits 0.
int run_cli(core::Context& ctx, const std::vector<std::string>& args);

/// One node of the real command tree, for checks such as completion coverage.
struct CommandDescription {
    std::string path; ///< e.g. "connect openclaw"
    std::vector<std::string> subcommands;
    std::vector<std::string> long_options; ///< without the leading "--"
};

/// Every command and subcommand with its long options, walked from the CLI11 tree.
std::vector<CommandDescription> describe_cli();

} // namespace aimo::commands
