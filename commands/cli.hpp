#pragma once

#include "core/context.hpp"

#include <string>
#include <vector>

namespace aimo::commands {

/// Parses `args` (without the program name), runs the chosen command and returns the process
/// exit code: 0 ok, 1 failure, 2 usage error, 130 interrupted.
int run_cli(core::Context& ctx, const std::vector<std::string>& args);

} // namespace aimo::commands
