#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace aimo::core {

/// Tables of the config file that belong to the routing layer (providers, aliases, routes,
/// retry, breaker); read_config_file leaves them to routing::load_routing_config.
bool is_routing_section(std::string_view key);

/// Reads the top-level settings of a TOML config file as text, keyed by setting key.
/// A missing file yields an empty map. Syntax errors, unknown keys and values of the wrong
/// type throw Error(invalid_input) naming the file, line and column. A relative `keypair` path
/// is taken relative to `base_dir`.
std::map<std::string, std::string> read_config_file(const std::filesystem::path& path,
                                                    const std::filesystem::path& base_dir);

} // namespace aimo::core
