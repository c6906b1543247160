#include "openclaw/connect.hpp"

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "core/paths.hpp"
#include "core/process.hpp"
#include "core/text_diff.hpp"
#include "crypto/encoding.hpp"

#include <fmt/format.h>
#include <set>

namespace aimo::openclaw {

using core::Error;
using core::ErrorKind;

namespace {
// aimo's memory of the configs it edited, keyed by config path.
Json load_state(const core::Context& ctx) {
    auto text = core::read_file_if_exists(connect_state_path(ctx));
    if (!text) {
        return Json::object();
    }
    Json state = Json::parse(*text, nullptr, false);
    return state.is_object() ? state : Json::object();
}

void save_state(const core::Context& ctx, const Json& state) {
    core::write_file_atomic(connect_state_path(ctx), core::json_text(state, 2) + "\n", 0600);
}

// Runs `openclaw config validate --json` on `config` when openclaw is installed; returns the
// set of "path: message" issues, or nullopt when openclaw is not on PATH.
std::optional<std::set<std::string>> validate(const core::Context& ctx,
                                              const std::filesystem::path& config) {
    auto openclaw = core::find_executable(ctx, "openclaw");
    if (!openclaw) {
        return std::nullopt;
    }
    std::map<std::string, std::string> env = {{"OPENCLAW_CONFIG_PATH", config.string()}};
    for (const char* name : {"PATH", "HOME", "OPENCLAW_HOME", "OPENCLAW_STATE_DIR"}) {
        if (auto value = ctx.getenv(name)) {
            env[name] = *value;
        }
    }
    auto output = core::run_process({openclaw->string(), "config", "validate", "--json"}, env);
    auto start = output.out.find('{');
    Json result =
        start == std::string::npos ? Json() : Json::parse(output.out.substr(start), nullptr, false);
    if (!result.is_object() || !result.contains("valid")) {
        throw Error(ErrorKind::io,
                    "'openclaw config validate --json' gave no verdict: " +
                        output.err.substr(0, 300),
                    "run it yourself to see why");
    }
    std::set<std::string> issues;
    if (result["valid"] != true) {
        if (result.contains("issues") && result["issues"].is_array()) {
            for (const auto& issue : result["issues"]) {
                // OpenClaw's output is read, not trusted: only strings are taken as text.
                auto text = [&](const char* key, std::string fallback) {
                    return issue.is_object() && issue.contains(key) && issue[key].is_string()
                               ? issue[key].get<std::string>()
                               : fallback;
                };
                issues.insert(fmt::format("{}: {}", text("path", "?"),
                                          text("message", core::json_text(issue))));
            }
        }
        if (issues.empty()) {
            issues.insert(result.contains("error") ? core::json_text(result["error"]) : "invalid");
        }
    }
    return issues;
}

void write_config(const std::filesystem::path& path, const std::string& text) {
    core::write_file_atomic(path, text, 0600);
}

// Removes the provider from each registry, backing every file up once.
void clean_registries(std::vector<StaleRegistry>& registries, const std::string& provider_id) {
    for (auto& registry : registries) {
        auto backup = registry.path.string() + ".aimo-backup";
        std::error_code ec;
        if (!std::filesystem::exists(backup, ec)) {
            core::write_file_atomic(backup, registry.text, 0600);
        }
        registry.json["providers"].erase(provider_id);
        core::write_file_atomic(registry.path, core::json_text(registry.json, 2) + "\n", 0600);
    }
}

std::vector<std::filesystem::path> paths_of(const std::vector<StaleRegistry>& registries) {
    std::vector<std::filesystem::path> paths;
    for (const auto& registry : registries) {
        paths.push_back(registry.path);
    }
    return paths;
}

Location checked_location(const core::Context& ctx, const ConnectOptions& options) {
    auto where = locate(ctx, options.config_override);
    if (where.read_only && !options.dry_run) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("OpenClaw's config {} is read-only (OPENCLAW_CONFIG_READONLY=1)",
                                where.config.string()),
                    "unset OPENCLAW_CONFIG_READONLY to let aimo edit it, or use --dry-run to see "
                    "the change and apply it yourself");
    }
    return where;
}

// Writes `text`, then validates; if our change introduced new issues, puts `original` back.
bool write_validated(const core::Context& ctx, const std::filesystem::path& path,
                     const std::optional<std::string>& original, const std::string& text) {
    std::optional<std::set<std::string>> before;
    if (original) {
        before = validate(ctx, path);
    }
    write_config(path, text);
    auto after = validate(ctx, path);
    if (!after) {
        return false;
    }
    std::vector<std::string> introduced;
    for (const auto& issue : *after) {
        if (!before || before->count(issue) == 0) {
            introduced.push_back(issue);
        }
    }
    if (introduced.empty()) {
        return after->empty();
    }
    if (original) {
        write_config(path, *original);
    } else {
        std::filesystem::remove(path);
    }
    std::string list;
    for (const auto& issue : introduced) {
        list += "\n  " + issue;
    }
    throw Error(ErrorKind::invalid_input,
                "OpenClaw rejected the change, so the file was put back as it was:" + list,
                "report this with 'openclaw --version'; your config is unchanged");
}
} // namespace

std::vector<StaleRegistry> find_stale_registries(const Location& where,
                                                 const std::string& provider_id) {
    std::vector<StaleRegistry> found;
    std::error_code ec;
    auto agents = where.state_dir / "agents";
    if (!std::filesystem::is_directory(agents, ec)) {
        return found;
    }
    for (const auto& entry : std::filesystem::directory_iterator(agents, ec)) {
        StaleRegistry registry{entry.path() / "agent" / "models.json", {}, {}};
        auto text = core::read_file_if_exists(registry.path);
        if (!text) {
            continue;
        }
        try {
            registry.json = parse_json5(*text, registry.path.string());
        } catch (const Error&) {
            continue;
        }
        if (registry.json.is_object() && registry.json.contains("providers") &&
            registry.json["providers"].is_object() &&
            registry.json["providers"].contains(provider_id)) {
            registry.text = std::move(*text);
            found.push_back(std::move(registry));
        }
    }
    return found;
}

namespace {
// The sections connect writes into must be objects where they exist: replacing a value of
// another type would lose what the user wrote there.
void refuse_odd_shapes(const Json& config, const std::string& source) {
    auto check = [&](const Json& parent, const char* key, const std::string& name) {
        if (parent.contains(key) && !parent[key].is_object() && !parent[key].is_null()) {
            throw Error(ErrorKind::invalid_input,
                        fmt::format("{}: '{}' is {} {}, not an object", source, name,
                                    parent[key].is_array() ? "an" : "a", parent[key].type_name()),
                        "OpenClaw expects an object there; fix it (or remove it), then connect");
        }
    };
    check(config, "models", "models");
    if (config.contains("models") && config["models"].is_object()) {
        check(config["models"], "providers", "models.providers");
    }
    check(config, "agents", "agents");
    if (config.contains("agents") && config["agents"].is_object()) {
        check(config["agents"], "defaults", "agents.defaults");
    }
}
} // namespace

std::filesystem::path connect_state_path(const core::Context& ctx) {
    return core::state_dir(ctx) / "openclaw-connect.json";
}

ConnectReport connect(const core::Context& ctx, const ConnectOptions& options) {
    ConnectReport report;
    report.location = checked_location(ctx, options);
    const auto& path = report.location.config;
    auto original = core::read_file_if_exists(path);
    report.created = !original;
    Json config = original ? parse_json5_object(*original, path.string()) : Json::object();
    refuse_includes(config, path.string());
    refuse_odd_shapes(config, path.string());
    auto edit = connect_config(std::move(config), options.request);
    std::string text = core::json_text(edit.config, 2) + "\n";
    report.changes = edit.changes;
    report.primary = edit.primary;
    report.changed = !original || *original != text;
    report.diff = core::line_diff(original.value_or(""), text);
    auto stale = find_stale_registries(report.location, options.request.provider_id);
    report.cleaned_registries = paths_of(stale);
    if (options.dry_run || (!report.changed && stale.empty())) {
        return report;
    }

    Json state = load_state(ctx);
    Json& entry = state[path.string()];
    if (!entry.is_object()) {
        entry = Json::object();
    }
    if (original) {
        auto backup = path.string() + ".aimo-backup";
        std::error_code ec;
        if (!std::filesystem::exists(backup, ec)) {
            core::write_file_atomic(backup, *original, 0600);
            report.backup = backup;
        }
        entry["backup"] = backup;
    }
    if (edit.previous_primary && !entry.contains("previous_primary")) {
        entry["previous_primary"] = *edit.previous_primary;
    }
    if (report.changed) {
        report.validated = write_validated(ctx, path, original, text);
    }
    entry["written_sha256"] = crypto::sha256_hex(text);
    save_state(ctx, state);
    clean_registries(stale, options.request.provider_id);
    return report;
}

ConnectReport disconnect(const core::Context& ctx, const ConnectOptions& options) {
    ConnectReport report;
    report.location = checked_location(ctx, options);
    const auto& path = report.location.config;
    auto original = core::read_file_if_exists(path);
    if (!original) {
        throw Error(
            ErrorKind::not_found,
            fmt::format("no OpenClaw config at {} ({})", path.string(), report.location.reason),
            "nothing to disconnect; pass --config-path if it lives elsewhere");
    }
    Json state = load_state(ctx);
    Json entry = state.contains(path.string()) ? state[path.string()] : Json::object();
    std::string text;
    std::optional<std::string> backup_text;
    if (entry.is_object() && entry.contains("backup") && entry["backup"].is_string() &&
        entry.contains("written_sha256") &&
        entry["written_sha256"] == crypto::sha256_hex(*original)) {
        backup_text = core::read_file_if_exists(entry["backup"].get<std::string>());
    }
    if (backup_text) {
        text = *backup_text;
        report.changes.push_back("restored " + entry["backup"].get<std::string>() +
                                 " (the file was unchanged since aimo wrote it)");
    } else {
        Json config = parse_json5_object(*original, path.string());
        refuse_includes(config, path.string());
        std::optional<std::string> previous;
        if (entry.is_object() && entry.contains("previous_primary") &&
            entry["previous_primary"].is_string()) {
            previous = entry["previous_primary"].get<std::string>();
        }
        auto edit = disconnect_config(std::move(config), options.request.provider_id, previous);
        // Nothing of ours in it: leave the user's file (comments and all) exactly as it is.
        text = edit.changes.empty() ? *original : core::json_text(edit.config, 2) + "\n";
        report.changes = edit.changes;
    }
    report.changed = text != *original;
    report.diff = core::line_diff(*original, text);
    report.primary = default_primary(parse_json5(text, path.string()));
    auto stale = find_stale_registries(report.location, options.request.provider_id);
    report.cleaned_registries = paths_of(stale);
    if (options.dry_run) {
        return report;
    }
    if (report.changed) {
        report.validated = write_validated(ctx, path, original, text);
    }
    clean_registries(stale, options.request.provider_id);
    state.erase(path.string());
    save_state(ctx, state);
    return report;
}

} // namespace aimo::openclaw
