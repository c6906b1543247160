#include "clients/claude_code.hpp"

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "core/paths.hpp"

#include <fmt/format.h>

namespace aimo::clients {

using core::Error;
using core::ErrorKind;
using Json = nlohmann::ordered_json;

namespace {
// aimo's memory of what it wrote into each settings file and what was there before.
std::filesystem::path state_path(const core::Context& ctx) {
    return core::state_dir(ctx) / "claude-code-connect.json";
}

Json load_state(const core::Context& ctx) {
    auto text = core::read_file_if_exists(state_path(ctx));
    Json state = text ? Json::parse(*text, nullptr, false) : Json::object();
    return state.is_object() ? state : Json::object();
}

// The settings as a JSON object (empty when the file does not exist yet).
Json load_settings(const std::filesystem::path& path, const std::optional<std::string>& text) {
    if (!text) {
        return Json::object();
    }
    Json settings = Json::parse(*text, nullptr, false);
    if (settings.is_discarded() || !settings.is_object()) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{} is not a JSON object, so aimo leaves it alone", path.string()),
                    "fix it (Claude Code reads it as JSON), or see 'aimo connect claude-code' "
                    "without --write for what to add by hand");
    }
    if (settings.contains("env") && !settings["env"].is_object()) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{}: 'env' is not an object", path.string()),
                    "make it an object of variable names to strings");
    }
    return settings;
}

void write_settings(const std::filesystem::path& path, const Json& settings) {
    core::write_file_atomic(path, settings.dump(2) + "\n", 0600);
}
} // namespace

std::filesystem::path claude_settings_path(const core::Context& ctx) {
    if (auto dir = ctx.getenv("CLAUDE_CONFIG_DIR"); dir && !dir->empty()) {
        return std::filesystem::path(*dir) / "settings.json";
    }
    return core::home_dir(ctx) / ".claude" / "settings.json";
}

Json claude_env(const ClientSetup& setup) {
    Json env = {{"ANTHROPIC_BASE_URL", setup.proxy_root}, {"ANTHROPIC_AUTH_TOKEN", setup.api_key}};
    for (const char* key : {"ANTHROPIC_MODEL", "ANTHROPIC_DEFAULT_OPUS_MODEL",
                            "ANTHROPIC_DEFAULT_SONNET_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL"}) {
        env[key] = setup.model;
    }
    return env;
}

ClientReport connect_claude_code(const core::Context& ctx, const ClientSetup& setup, bool write) {
    ClientReport report;
    report.path = claude_settings_path(ctx);
    Json env = claude_env(setup);
    report.content = Json{{"env", env}}.dump(2) + "\n";
    auto text = core::read_file_if_exists(report.path);
    Json settings = load_settings(report.path, text);
    Json& current = settings["env"];
    if (current.is_null()) {
        current = Json::object();
    }
    Json state = load_state(ctx);
    Json& entry = state[report.path.string()];
    if (!entry.is_object()) {
        entry = {{"previous", Json::object()}, {"env_existed", settings.contains("env")}};
    }
    for (const auto& [key, value] : env.items()) {
        if (!entry["previous"].contains(key)) {
            entry["previous"][key] = current.contains(key) ? current[key] : Json(nullptr);
        }
        if (current.contains(key) && current[key] == value) {
            continue;
        }
        report.changes.push_back(
            current.contains(key)
                ? fmt::format("{}: {} -> {}", key, current[key].dump(), value.dump())
                : fmt::format("{} = {}", key, value.dump()));
        current[key] = value;
    }
    if (current.contains("ANTHROPIC_API_KEY")) {
        report.changes.push_back("note: env.ANTHROPIC_API_KEY is set and wins over "
                                 "ANTHROPIC_AUTH_TOKEN; remove it to use aimo");
    }
    entry["written"] = env;
    if (!write || report.changes.empty()) {
        return report;
    }
    if (text) {
        auto backup = report.path.string() + ".aimo-backup";
        if (!std::filesystem::exists(backup)) {
            core::write_file_atomic(backup, *text, 0600);
            report.backup = backup;
        }
    }
    write_settings(report.path, settings);
    core::write_file_atomic(state_path(ctx), state.dump(2) + "\n", 0600);
    report.written = true;
    return report;
}

ClientReport disconnect_claude_code(const core::Context& ctx) {
    ClientReport report;
    report.path = claude_settings_path(ctx);
    auto text = core::read_file_if_exists(report.path);
    Json state = load_state(ctx);
    auto found = state.find(report.path.string());
    if (!text || found == state.end() || !found->is_object()) {
        return report; // nothing of aimo's there
    }
    Json settings = load_settings(report.path, text);
    Json& env = settings["env"];
    if (env.is_null()) {
        env = Json::object();
    }
    const Json& entry = *found;
    const Json written = entry.value("written", Json::object());
    const Json previous_values = entry.value("previous", Json::object());
    for (const auto& [key, value] : written.items()) {
        if (!env.contains(key)) {
            continue;
        }
        if (env[key] != value) {
            report.changes.push_back(fmt::format("{} was changed since; kept as it is", key));
            continue;
        }
        const Json previous = previous_values.value(key, Json(nullptr));
        if (previous.is_null()) {
            env.erase(key);
            report.changes.push_back(fmt::format("removed {}", key));
        } else {
            env[key] = previous;
            report.changes.push_back(fmt::format("{} restored to {}", key, previous.dump()));
        }
    }
    if (env.empty() && !entry.value("env_existed", true)) {
        settings.erase("env");
    }
    write_settings(report.path, settings);
    state.erase(found);
    core::write_file_atomic(state_path(ctx), state.dump(2) + "\n", 0600);
    report.written = true;
    return report;
}

} // namespace aimo::clients
