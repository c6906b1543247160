#include "config/cache_section.hpp"

#include "core/error.hpp"

#include <charconv>
#include <fmt/format.h>

namespace aimo::config {

namespace {
struct Reader {
    const std::string& source;

    [[noreturn]] void fail(const toml::node& node, const std::string& what,
                           const std::string& hint) const {
        const auto& at = node.source().begin;
        throw core::Error(core::ErrorKind::invalid_input,
                          fmt::format("{}:{}:{}: [cache] {}", source, at.line, at.column, what),
                          hint);
    }

    std::string text(const toml::node& node, std::string_view key) const {
        if (!node.is_string()) {
            fail(node, fmt::format("'{}' must be a string", key), "put the value in quotes");
        }
        return *node.value<std::string>();
    }

    // A whole number, or a string with a unit: "90s", "30m", "12h", "7d" / "512KiB", "64MiB",
    // "1GiB" (and KB/MB/GB as powers of ten).
    int64_t amount(const toml::node& node, std::string_view key, bool bytes) const {
        auto hint = bytes ? "for example max_bytes = \"64MiB\" or 67108864"
                          : "for example ttl = \"1h\", \"30m\" or 3600 (seconds; 0: never expire)";
        if (auto number = node.value<int64_t>(); number && node.is_integer()) {
            if (*number < 0) {
                fail(node, fmt::format("'{}' must not be negative", key), hint);
            }
            return *number;
        }
        if (!node.is_string()) {
            fail(node, fmt::format("'{}' must be a number or a string with a unit", key), hint);
        }
        std::string value = *node.value<std::string>();
        int64_t whole = 0;
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), whole);
        std::string unit(end, static_cast<const char*>(value.data() + value.size()));
        static const std::pair<const char*, int64_t> time_units[] = {
            {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
        static const std::pair<const char*, int64_t> byte_units[] = {
            {"", 1},          {"B", 1},     {"KiB", 1024},   {"MiB", 1 << 20},
            {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000}};
        if (ec == std::errc() && end != value.data() && whole >= 0) {
            const auto* begin = bytes ? std::begin(byte_units) : std::begin(time_units);
            const auto* finish = bytes ? std::end(byte_units) : std::end(time_units);
            for (const auto* u = begin; u != finish; ++u) {
                if (unit == u->first) {
                    return whole * u->second;
                }
            }
        }
        fail(node, fmt::format("cannot read '{}' = \"{}\"", key, value), hint);
    }
};
} // namespace

cache::Settings read_cache_section(const toml::table& root, const std::string& source) {
    cache::Settings out;
    const toml::node* section = root.get("cache");
    if (section == nullptr) {
        return out;
    }
    Reader in{source};
    const toml::table* table = section->as_table();
    if (table == nullptr) {
        in.fail(*section, "'cache' must be a table", "write it as [cache] with keys below it");
    }
    for (const auto& [name, node] : *table) {
        std::string key(name.str());
        if (key == "mode") {
            auto mode = in.text(node, key);
            if (mode == "off") {
                out.mode = cache::Mode::off;
            } else if (mode == "exact") {
                out.mode = cache::Mode::exact;
            } else if (mode == "semantic") {
                out.mode = cache::Mode::semantic;
            } else {
                in.fail(node, fmt::format("unknown mode \"{}\"", mode),
                        "use mode = \"off\", \"exact\" or \"semantic\"");
            }
        } else if (key == "ttl") {
            out.ttl_seconds = in.amount(node, key, false);
        } else if (key == "max_bytes") {
            out.max_bytes = static_cast<size_t>(in.amount(node, key, true));
            if (out.max_bytes < 4096) {
                in.fail(node, "'max_bytes' is too small to hold an answer",
                        "give it at least 4KiB, or set mode = \"off\"");
            }
        } else if (key == "namespace") {
            auto space = in.text(node, key);
            if (space != "agent" && space != "shared") {
                in.fail(node, fmt::format("unknown namespace \"{}\"", space),
                        "use namespace = \"agent\" (each agent its own answers) or \"shared\"");
            }
            out.shared = space == "shared";
        } else if (key == "sampled") {
            if (!node.is_boolean()) {
                in.fail(node, "'sampled' must be true or false",
                        "sampled = true also caches requests with temperature > 0");
            }
            out.sampled = *node.value<bool>();
        } else if (key == "embeddings") {
            out.embeddings = in.text(node, key);
        } else if (key == "threshold") {
            auto value = node.value<double>();
            if (!value || !(node.is_floating_point() || node.is_integer()) || *value <= 0 ||
                *value > 1) {
                in.fail(node, "'threshold' must be a number above 0 and at most 1",
                        "for example threshold = 0.95");
            }
            out.threshold = *value;
        } else if (key == "file") {
            out.file = in.text(node, key);
        } else {
            in.fail(node, fmt::format("unknown key '{}'", key),
                    "known keys: mode, ttl, max_bytes, namespace, sampled, embeddings, "
                    "threshold, file");
        }
    }
    if (out.mode == cache::Mode::semantic && out.embeddings.empty()) {
        in.fail(*section, "mode = \"semantic\" needs an embeddings model",
                "add embeddings = \"<provider>/<model>\", e.g. \"ollama/nomic-embed-text\"");
    }
    return out;
}

} // namespace aimo::config
