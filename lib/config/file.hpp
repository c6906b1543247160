#pragma once

#include "cache/cache.hpp"
#include "core/context.hpp"
#include "routing/config.hpp"

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace aimo::config {

/// config.toml, read with one TOML parse: its top-level settings as text (for the settings
/// resolver) and its tables, kept parsed for the sections that read them (routing today).
class ConfigFile {
public:
    /// An empty file: no settings, no tables.
    ConfigFile() = default;

    /// Reads `path`; a missing file is an empty one. Throws core::Error(invalid_input) naming
    /// the file, line and column for bad TOML, an unknown setting or table, or a setting that is
    /// neither a string nor a whole number. A relative `keypair` is taken relative to
    /// `base_dir`.
    static ConfigFile read(const std::filesystem::path& path,
                           const std::filesystem::path& base_dir);
    /// The same from text; `source` names it in messages.
    static ConfigFile parse(std::string_view text, const std::string& source,
                            const std::filesystem::path& base_dir);

    /// Top-level settings as text, keyed by setting key.
    const std::map<std::string, std::string>& settings() const { return m_settings; }
    /// The file's routing tables, decoded (routing::parse_routing_config's rules).
    routing::RoutingConfig routing(const routing::RoutingDefaults& defaults,
                                   const core::EnvLookup& env) const;

    /// The file's `[cache]` table, decoded (config::read_cache_section's rules).
    cache::Settings cache() const;

private:
    struct Tree;
    std::string m_source;
    std::map<std::string, std::string> m_settings;
    std::shared_ptr<const Tree> m_tree; // null: no file
};

} // namespace aimo::config
