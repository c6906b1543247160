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

/// Runs `argv` with this process's environment plus `env` overrides, stdin closed, and
/// collects its output. Throws Error(io) when it cannot be started.
ProcessOutput run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env);

} // namespace aimo::core
