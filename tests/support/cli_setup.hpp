#pragma once

#include "cli_harness.hpp"
#include "temp_dir.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace aimo::test {

/// One user's machine for CLI tests: a temp home, the in-process CLI pointed at it, the files
/// aimo uses there, and what the real binary needs to run in it as a subprocess.
struct CliSetup {
    TempDir home;
    CliHarness cli{home.path()};
    std::filesystem::path config_file = home / ".config/aimo/config.toml";
    std::filesystem::path database = home / ".local/share/aimo/aimo.db";
    std::filesystem::path keypair = home / ".config/aimo/keypair.json";
    std::filesystem::path openclaw_config = home / ".openclaw/openclaw.json";

    /// Writes config.toml as editors save: a new file renamed over the old, never half-written.
    void write_config(const std::string& text) const;
    /// Writes `text` to `path`, creating its directory.
    static void write_file(const std::filesystem::path& path, const std::string& text);
    /// The real binary with `args`.
    std::vector<std::string> argv(std::vector<std::string> args) const;
    /// An environment with only HOME (this home) and PATH (the system's directories).
    std::map<std::string, std::string> env() const;
};

} // namespace aimo::test
