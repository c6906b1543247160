#include "config/file.hpp"

#include "config/cache_section.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/settings.hpp"
#include "routing/config_toml.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <system_error>

namespace aimo::config {

struct ConfigFile::Tree {
    toml::table root;
};

namespace {
std::string where(const std::string& source, const toml::source_region& region) {
    return fmt::format("{}:{}:{}", source, region.begin.line, region.begin.column);
}

std::string known_names() {
    std::string keys;
    for (const auto& spec : core::setting_specs()) {
        keys += keys.empty() ? "" : ", ";
        keys += spec.key;
    }
    return keys;
}

bool is_table_name(std::string_view key) {
    const auto& tables = routing::routing_tables();
    return key == "cache" || std::find(tables.begin(), tables.end(), key) != tables.end();
}
} // namespace

ConfigFile ConfigFile::read(const std::filesystem::path& path,
                            const std::filesystem::path& base_dir) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        ConfigFile empty;
        empty.m_source = path.string();
        return empty;
    }
    return parse(core::read_file(path), path.string(), base_dir);
}

ConfigFile ConfigFile::parse(std::string_view text, const std::string& source,
                             const std::filesystem::path& base_dir) {
    ConfigFile file;
    file.m_source = source;
    auto tree = std::make_shared<Tree>();
    try {
        tree->root = toml::parse(text, source);
    } catch (const toml::parse_error& e) {
        throw core::Error(
            core::ErrorKind::invalid_input,
            fmt::format("{}: invalid TOML: {}", where(source, e.source()), e.description()),
            "fix the file, or move it away to use the defaults");
    }
    for (const auto& [key, node] : tree->root) {
        std::string name(key.str());
        if (is_table_name(name)) {
            continue;
        }
        bool known = std::any_of(core::setting_specs().begin(), core::setting_specs().end(),
                                 [&](const core::SettingSpec& spec) { return spec.key == name; });
        if (!known) {
            throw core::Error(
                core::ErrorKind::invalid_input,
                fmt::format("{}: unknown setting '{}'", where(source, key.source()), name),
                "known settings: " + known_names() +
                    "; tables: [[providers]], [aliases], [[routes]], [retry], "
                    "[breaker], [cache]");
        }
        if (auto text_value = node.value<std::string>(); text_value && node.is_string()) {
            file.m_settings[name] = *text_value;
        } else if (auto number = node.value<int64_t>(); number && node.is_integer()) {
            file.m_settings[name] = std::to_string(*number);
        } else if (auto flag = node.value<bool>(); flag && node.is_boolean()) {
            file.m_settings[name] = *flag ? "true" : "false";
        } else {
            throw core::Error(core::ErrorKind::invalid_input,
                              fmt::format("{}: '{}' must be a string, a whole number or true/false",
                                          where(source, node.source()), name),
                              "for example: port = 8080, router_url = "
                              "\"https://beta.aimo.network\"");
        }
    }
    if (auto it = file.m_settings.find("keypair"); it != file.m_settings.end()) {
        std::filesystem::path keypair(it->second);
        if (keypair.is_relative()) {
            it->second = (base_dir / keypair).string();
        }
    }
    file.m_tree = std::move(tree);
    return file;
}

routing::RoutingConfig ConfigFile::routing(const routing::RoutingDefaults& defaults,
                                           const core::EnvLookup& env) const {
    static const toml::table empty;
    return routing::read_routing_tables(m_tree ? m_tree->root : empty, m_source, defaults, env);
}

cache::Settings ConfigFile::cache() const {
    static const toml::table empty;
    return read_cache_section(m_tree ? m_tree->root : empty, m_source);
}

} // namespace aimo::config
