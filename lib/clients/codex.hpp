#pragma once

#include "clients/setup.hpp"
#include "core/context.hpp"

namespace aimo::clients {

/// Codex's profile file `<CODEX_HOME or ~/.codex>/<profile>.config.toml`, which
/// `codex --profile <profile>` lays over config.toml. Throws Error(usage) for a profile name
/// Codex does not accept (letters, digits, '-' and '_').
std::filesystem::path codex_profile_path(const core::Context& ctx, const std::string& profile);

/// The profile's text: model, model_provider, and a [model_providers.<profile>] entry with
/// aimo's /v1 base URL, wire_api "responses" and the key as its bearer token.
std::string codex_profile(const ClientSetup& setup, const std::string& profile);

/// Writes that profile (mode 0600, atomically) when `write` is set. A file of that name that
/// aimo did not write is refused, untouched: the user's own profile is never replaced.
ClientReport connect_codex(const core::Context& ctx, const ClientSetup& setup,
                           const std::string& profile, bool write);

/// Removes the profile file if aimo wrote it; refuses to remove anyone else's.
ClientReport disconnect_codex(const core::Context& ctx, const std::string& profile);

} // namespace aimo::clients
