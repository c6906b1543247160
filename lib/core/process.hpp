#pragma once

#include "core/context.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace aimo::core {

/// A finished child process.
struct ProcessOutput {
    int exit_code = -1; ///< 128 + signal when killed
    std::string out;
    std::string err;
};

/// The first executable named `name` in the context's PATH, if any.
std::optional<std::filesystem::path> find_executable(const Context& ctx, const std::string& name);

/// How to run a child process.
struct ProcessOptions {
    bool inherit_environment = true; ///< start from this process's environment
    std::string input;               ///< written to the child's stdin, which is then closed
};

/// Runs `argv` with the environment (inherited or not) plus `env` overrides, feeds it `input`
/// and collects its output. A bare program name is looked up on the child's PATH. Throws
/// Error(io) when it cannot be started.
ProcessOutput run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env,
                          const ProcessOptions& options = {});

} // namespace aimo::core
