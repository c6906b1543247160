#pragma once

#include "core/context.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace aimo::core {

/// Where a resolved setting came from, highest precedence first.
enum class SettingSource { flag, environment, config_file, default_value };

/// "flag", "environment", "config file" or "default".
std::string_view to_string(SettingSource source);

/// One resolved setting: its text, its layer, and the exact origin (flag name, variable name,
/// file path or "default") so `aimo config show` and error messages can name it.
struct SettingValue {
    std::string value;
    SettingSource source = SettingSource::default_value;
    std::string origin;
};

/// A setting aimo knows: its key (also the config file key), its environment variable, the
/// command-line flag that overrides it, and a one-line description.
struct SettingSpec {
    std::string_view key;
    std::string_view env;
    std::string_view flag;
    std::string_view description;
};

/// Every setting, in display order.
const std::vector<SettingSpec>& setting_specs();

/// The four layers, as plain data.
struct SettingsLayers {
    std::map<std::string, std::string> flags; ///< key -> value given on the command line
    EnvLookup env;                            ///< AIMO_* lookup
    std::map<std::string, std::string> file;  ///< key -> value from the config file
    std::string file_path;                    ///< shown as the origin of file values
    std::map<std::string, std::string> defaults;
};

/// Resolved settings with typed accessors whose errors name the value's origin.
class Settings {
public:
    explicit Settings(std::map<std::string, SettingValue> values) : m_values(std::move(values)) {}

    /// The resolved value; throws std::out_of_range for a key not in setting_specs().
    const SettingValue& get(std::string_view key) const;
    /// Shorthand for get(key).value.
    const std::string& value(std::string_view key) const { return get(key).value; }
    /// The value as an integer in [min, max]; otherwise throws Error naming the origin: usage
    /// for a flag, invalid_input for a variable or the config file.
    long long get_int(std::string_view key, long long min, long long max) const;
    /// Every value, keyed by setting key.
    const std::map<std::string, SettingValue>& all() const { return m_values; }

private:
    std::map<std::string, SettingValue> m_values;
};

/// Pure resolution: for each known key, flag > environment > config file > default.
Settings resolve_settings(const SettingsLayers& layers);

/// Path of the config file: <config dir>/config.toml.
std::filesystem::path config_file_path(const Context& ctx);

} // namespace aimo::core
