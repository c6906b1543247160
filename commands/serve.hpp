#pragma once

#include "common.hpp"

namespace aimo::commands {

/// Adds every flag the proxy understands (shared by `serve` and `chat --serve`).
void add_serve_flags(CLI::App& app, SettingFlags& flags);

/// Runs the proxy with these flags until SIGINT/SIGTERM; prints the banner to stderr.
int run_serve(core::Context& ctx, const SettingFlags& flags);

} // namespace aimo::commands
