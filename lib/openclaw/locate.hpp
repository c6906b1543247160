#pragma once

#include "core/context.hpp"

#include <filesystem>
#include <string>

namespace aimo::openclaw {

/// Where OpenClaw keeps its files, resolved the way OpenClaw 2026.9 does.
struct Location {
    std::filesystem::path config;    ///< openclaw.json
    std::filesystem::path state_dir; ///< holds agents/<id>/agent/models.json
    std::string reason;              ///< how the config path was chosen, for messages
    bool read_only = false;          ///< OPENCLAW_CONFIG_READONLY=1
};

/// $OPENCLAW_CONFIG_PATH; else $OPENCLAW_STATE_DIR/openclaw.json; else
/// <home>/.openclaw/openclaw.json with home = $OPENCLAW_HOME or $HOME, falling back to the
/// legacy ~/.clawdbot/clawdbot.json when only that exists. `override_path` (--config-path) wins.
Location locate(const core::Context& ctx, const std::filesystem::path& override_path = {});

} // namespace aimo::openclaw
