#pragma once

#include "core/context.hpp"

#include <chrono>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace aimo::test {

/// What a command printed and returned.
struct CliResult {
    int code = -1;
    std::string out;
    std::string err;
};

/// Runs commands in-process against a fake environment: HOME and AIMO_CONFIG_DIR point into
/// `home`, the clock is fixed, stdin is `input`.
class CliHarness {
public:
    explicit CliHarness(std::filesystem::path home);

    CliResult run(const std::vector<std::string>& args, const std::string& input = "");
    /// Writes the RFC 8032 keypair where commands look by default, points them at
    /// `router_url`, and keeps PATH to the system directories (no user-installed openclaw).
    void use_router(const std::string& router_url);

    std::map<std::string, std::string> env;
    std::chrono::system_clock::time_point now;
    std::filesystem::path home;
};

} // namespace aimo::test
