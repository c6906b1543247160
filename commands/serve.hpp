#pragma once

#include "common.hpp"

namespace aimo::commands {

/// The proxy's flags: every setting, and the two authentication switches.
struct ServeFlags {
    SettingFlags settings;
    bool require_auth = false;
    bool insecure_no_auth = false;
};

/// Adds every flag the proxy understands (shared by `serve` and `chat --serve`).
void add_serve_flags(CLI::App& app, ServeFlags& flags);

/// Runs the proxy with these flags until SIGINT/SIGTERM; prints the banner to stderr.
int run_serve(core::Context& ctx, const ServeFlags& flags);

} // namespace aimo::commands
