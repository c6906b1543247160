#include "core/config_file.hpp"

#include "core/error.hpp"
#include "core/settings.hpp"

#include <fmt/format.h>
#include <system_error>
#include <toml++/toml.h>

namespace aimo::core {

namespace {
std::string where(const std::filesystem::path& path, const toml::source_region& region) {
    return fmt::format("{}:{}:{}", path.string(), region.begin.line, region.begin.column);
}

std::string known_keys() {
    std::string keys;
    for (const auto& spec : setting_specs()) {
        keys += keys.empty() ? "" : ", ";
        keys += spec.key;
    }
    return keys;
}
} // namespace

bool is_routing_section(std::string_view key) {
    return key == "providers" || key == "aliases" || key == "routes" || key == "retry" ||
           key == "breaker";
}

std::map<std::string, std::string> read_config_file(const std::filesystem::path& path,
                                                    const std::filesystem::path& base_dir) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return {};
    }
    toml::table table;
    try {
        table = toml::parse_file(path.string());
    } catch (const toml::parse_error& e) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: invalid TOML: {}", where(path, e.source()), e.description()),
                    "fix the file, or move it away to use the defaults");
    }
    std::map<std::string, std::string> values;
    for (const auto& [key, node] : table) {
        std::string name(key.str());
        if (is_routing_section(name)) {
            continue;
        }
        bool known = false;
        for (const auto& spec : setting_specs()) {
            known = known || spec.key == name;
        }
        if (!known) {
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{}: unknown setting '{}'", where(path, key.source()), name),
                        "known settings: " + known_keys() +
                            "; tables: [[providers]], [aliases], [[routes]], [retry], [breaker]");
        }
        if (auto text = node.value<std::string>(); text && node.is_string()) {
            values[name] = *text;
        } else if (auto number = node.value<int64_t>(); number && node.is_integer()) {
            values[name] = std::to_string(*number);
        } else {
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{}: '{}' must be a string or a whole number",
                                    where(path, node.source()), name),
                        "for example: port = 8080, router_url = \"https://beta.aimo.network\"");
        }
    }
    if (auto it = values.find("keypair"); it != values.end()) {
        std::filesystem::path keypair(it->second);
        if (keypair.is_relative()) {
            it->second = (base_dir / keypair).string();
        }
    }
    return values;
}

} // namespace aimo::core
