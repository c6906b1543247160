#pragma once

#include "core/context.hpp"
#include "openclaw/edit.hpp"
#include "openclaw/locate.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace aimo::openclaw {

/// What to do to OpenClaw's config.
struct ConnectOptions {
    ConnectRequest request;
    std::filesystem::path config_override; ///< --config-path
    bool dry_run = false;
};

/// What was done (or, with dry_run, would be done).
struct ConnectReport {
    Location location;
    bool created = false; ///< the config did not exist before
    bool changed = false; ///< false: byte-identical, nothing written
    std::vector<std::string> changes;
    std::string diff;             ///< readable line diff of the file
    std::filesystem::path backup; ///< made by this run, else empty
    std::vector<std::filesystem::path> cleaned_registries;
    bool validated = false; ///< `openclaw config validate` ran and accepted it
    std::string primary;    ///< the default model afterwards
};

/// Connects OpenClaw to aimo: backs the file up once (openclaw.json.aimo-backup), remembers the
/// previous default model in aimo's own state, writes atomically with mode 0600, validates with
/// `openclaw config validate --json` when openclaw is on PATH (rolling back if our change made
/// it invalid), and removes aimo's stale entries from per-agent models.json registries.
/// Refuses a read-only or unparseable config without touching it.
ConnectReport connect(const core::Context& ctx, const ConnectOptions& options);

/// Undoes connect: restores the backup if the file is unchanged since aimo last wrote it, else
/// removes only aimo's provider and `aimo/…` references and restores the saved default model.
ConnectReport disconnect(const core::Context& ctx, const ConnectOptions& options);

/// A per-agent `<state dir>/agents/<id>/agent/models.json` that still lists the provider; older
/// OpenClaw releases let such an entry override the config's baseUrl and apiKey.
struct StaleRegistry {
    std::filesystem::path path;
    std::string text; ///< as read, for the backup
    Json json;
};

/// Every registry that lists `provider_id`. Unreadable or unparseable files are skipped: they
/// are not aimo's to repair.
std::vector<StaleRegistry> find_stale_registries(const Location& where,
                                                 const std::string& provider_id);

/// Where aimo keeps what it remembers about OpenClaw configs it edited.
std::filesystem::path connect_state_path(const core::Context& ctx);

} // namespace aimo::openclaw
