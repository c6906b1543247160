#pragma once

#include "clients/setup.hpp"
#include "core/context.hpp"

#include <nlohmann/json.hpp>

namespace aimo::clients {

/// Claude Code's user settings: $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json.
std::filesystem::path claude_settings_path(const core::Context& ctx);

/// The `env` entries that point Claude Code at aimo: ANTHROPIC_BASE_URL (the root; Claude
/// Code adds /v1/messages), ANTHROPIC_AUTH_TOKEN (sent as a bearer token), and the model for
/// ANTHROPIC_MODEL and each of the opus, sonnet and haiku aliases.
nlohmann::ordered_json claude_env(const ClientSetup& setup);

/// Merges claude_env into the settings' `env` when `write` is set: backs the file up once
/// (settings.json.aimo-backup), remembers the values it replaces in aimo's state, writes
/// atomically with mode 0600. Refuses a settings file that is not a JSON object, untouched.
ClientReport connect_claude_code(const core::Context& ctx, const ClientSetup& setup, bool write);

/// Undoes connect_claude_code: each entry aimo wrote and nobody changed since gets its old
/// value back (or goes); entries changed by hand stay, and are named in `changes`.
ClientReport disconnect_claude_code(const core::Context& ctx);

} // namespace aimo::clients
