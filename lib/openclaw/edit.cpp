#include "openclaw/edit.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace aimo::openclaw {

namespace {
bool is_include(const Json& value) {
    return value.is_object() && value.contains("$include");
}

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.rfind(prefix, 0) == 0;
}

// The model reference inside a `model` field: a string, or the object's `primary`.
std::string primary_of(const Json& model) {
    if (model.is_string()) {
        return model;
    }
    if (model.is_object() && model.contains("primary") && model["primary"].is_string()) {
        return model["primary"];
    }
    return {};
}

// Sets the primary of a `model` field, keeping its form (string stays string) and fallbacks.
void set_primary(Json& model, const std::string& primary) {
    if (model.is_object()) {
        model["primary"] = primary;
    } else {
        model = primary;
    }
}

// The legacy `agents.list` entry for the main agent, or nullptr.
Json* legacy_main(Json& agents) {
    if (!agents.contains("list") || !agents["list"].is_array()) {
        return nullptr;
    }
    for (auto& entry : agents["list"]) {
        if (entry.is_object() && ((entry.contains("default") && entry["default"] == true) ||
                                  (entry.contains("id") && entry["id"] == "main"))) {
            return &entry;
        }
    }
    return nullptr;
}

// Every `model` field of the main agent (onboarded entries and the legacy list).
std::vector<Json*> main_agent_models(Json& config) {
    std::vector<Json*> fields;
    if (!config.contains("agents") || !config["agents"].is_object()) {
        return fields;
    }
    Json& agents = config["agents"];
    if (agents.contains("entries") && agents["entries"].is_object() &&
        agents["entries"].contains("main") && agents["entries"]["main"].is_object() &&
        agents["entries"]["main"].contains("model")) {
        fields.push_back(&agents["entries"]["main"]["model"]);
    }
    if (Json* entry = legacy_main(agents); entry && entry->contains("model")) {
        fields.push_back(&(*entry)["model"]);
    }
    return fields;
}

Json provider_json(const ConnectRequest& request) {
    Json models = Json::array();
    for (const auto& m : request.models) {
        models.push_back(Json{{"id", m.id},
                              {"name", m.name.empty() ? m.id : m.name},
                              {"reasoning", m.reasoning},
                              {"input", Json::array({"text"})},
                              {"contextWindow", m.context_window},
                              {"maxTokens", m.max_tokens}});
    }
    return Json{{"baseUrl", request.base_url},
                {"apiKey", request.api_key},
                {"api", request.api},
                {"models", std::move(models)}};
}
} // namespace

void refuse_includes(const Json& config, const std::string& source) {
    for (const char* key : {"models", "agents"}) {
        bool included =
            config.is_object() && config.contains(key) &&
            (is_include(config[key]) ||
             (std::string(key) == "models" && config[key].is_object() &&
              config[key].contains("providers") && is_include(config[key]["providers"])));
        if (included) {
            throw core::Error(
                core::ErrorKind::invalid_input,
                fmt::format("{}: '{}' comes from a $include, so aimo cannot edit it safely", source,
                            key),
                "add the aimo provider to the included file yourself (see 'aimo connect openclaw "
                "--dry-run' for what to write), or move that section into openclaw.json");
        }
    }
}

std::string default_primary(const Json& config) {
    if (config.is_object() && config.contains("agents") && config["agents"].is_object() &&
        config["agents"].contains("defaults") && config["agents"]["defaults"].is_object() &&
        config["agents"]["defaults"].contains("model")) {
        return primary_of(config["agents"]["defaults"]["model"]);
    }
    return {};
}

EditResult connect_config(Json config, const ConnectRequest& request) {
    if (!config.is_object()) {
        throw core::Error(core::ErrorKind::invalid_input, "OpenClaw's config is not a JSON object",
                          "restore it from its backup");
    }
    EditResult result;
    const std::string prefix = request.provider_id + "/";
    auto& models = config["models"];
    if (!models.is_object()) {
        models = Json::object();
    }
    auto& providers = models["providers"];
    if (!providers.is_object()) {
        providers = Json::object();
    }
    Json provider = provider_json(request);
    if (!providers.contains(request.provider_id) || providers[request.provider_id] != provider) {
        result.changes.push_back(
            fmt::format("{} provider '{}' at {} ({}) with {} models",
                        providers.contains(request.provider_id) ? "updated" : "added",
                        request.provider_id, request.base_url, request.api, request.models.size()));
        providers[request.provider_id] = std::move(provider);
    }

    std::string current = default_primary(config);
    if (!request.set_default) {
        result.primary = current;
        result.config = std::move(config);
        return result;
    }
    std::string model_id;
    auto in_catalogue = [&](const std::string& id) {
        return std::any_of(request.models.begin(), request.models.end(),
                           [&](const ProviderModel& m) { return m.id == id; });
    };
    if (request.primary) {
        model_id = *request.primary;
    } else if (starts_with(current, prefix) && in_catalogue(current.substr(prefix.size()))) {
        model_id = current.substr(prefix.size()); // reconnecting keeps the chosen model
    } else if (!request.models.empty()) {
        model_id = request.models.front().id;
    }
    if (model_id.empty()) {
        result.config = std::move(config);
        return result;
    }
    result.primary = prefix + model_id;
    if (!current.empty() && !starts_with(current, prefix)) {
        result.previous_primary = current;
    }

    auto& agents = config["agents"];
    if (!agents.is_object()) {
        agents = Json::object();
    }
    auto& defaults = agents["defaults"];
    if (!defaults.is_object()) {
        defaults = Json::object();
    }
    if (!defaults.contains("model")) {
        defaults["model"] = Json{{"primary", result.primary}};
    }
    if (primary_of(defaults["model"]) != result.primary) {
        set_primary(defaults["model"], result.primary);
    }
    if (current != result.primary) {
        result.changes.push_back(fmt::format("default model: {} -> {}",
                                             current.empty() ? "(none)" : current, result.primary));
    }
    for (Json* field : main_agent_models(config)) {
        if (primary_of(*field) != result.primary) {
            result.changes.push_back(
                fmt::format("main agent model: {} -> {}", primary_of(*field), result.primary));
            set_primary(*field, result.primary);
        }
    }
    auto& defaults_after = config["agents"]["defaults"];
    if (defaults_after.contains("modelPolicy") && defaults_after["modelPolicy"].is_object() &&
        defaults_after["modelPolicy"].contains("allow") &&
        defaults_after["modelPolicy"]["allow"].is_array() &&
        !defaults_after["modelPolicy"]["allow"].empty()) {
        auto& allow = defaults_after["modelPolicy"]["allow"];
        if (std::find(allow.begin(), allow.end(), Json(result.primary)) == allow.end()) {
            allow.push_back(result.primary);
            result.changes.push_back("allowed " + result.primary + " in modelPolicy.allow");
        }
    }
    if (defaults_after.contains("models") && defaults_after["models"].is_object() &&
        !defaults_after["models"].contains(result.primary)) {
        defaults_after["models"][result.primary] = Json::object();
        result.changes.push_back("allowed " + result.primary + " in agents.defaults.models");
    }
    result.config = std::move(config);
    return result;
}

EditResult disconnect_config(Json config, const std::string& provider_id,
                             const std::optional<std::string>& previous_primary) {
    EditResult result;
    const std::string prefix = provider_id + "/";
    if (!config.is_object()) {
        result.config = std::move(config);
        return result;
    }
    if (config.contains("models") && config["models"].is_object() &&
        config["models"].contains("providers") && config["models"]["providers"].is_object() &&
        config["models"]["providers"].contains(provider_id)) {
        config["models"]["providers"].erase(provider_id);
        result.changes.push_back("removed provider '" + provider_id + "'");
    }
    auto restore = [&](Json& field, const std::string& what) {
        auto primary = primary_of(field);
        if (!starts_with(primary, prefix)) {
            return false;
        }
        if (previous_primary) {
            set_primary(field, *previous_primary);
            result.changes.push_back(fmt::format("{}: {} -> {}", what, primary, *previous_primary));
            return false;
        }
        result.changes.push_back(fmt::format("{}: removed {}", what, primary));
        if (field.is_object()) {
            field.erase("primary");
            return field.empty();
        }
        return true; // a plain string: drop the field
    };
    auto drop_refs = [&](Json& list, const std::string& what) {
        if (!list.is_array()) {
            return;
        }
        size_t before = list.size();
        Json kept = Json::array();
        for (auto& item : list) {
            if (!(item.is_string() && starts_with(item.get<std::string>(), prefix))) {
                kept.push_back(item);
            }
        }
        if (kept.size() != before) {
            list = std::move(kept);
            result.changes.push_back("removed " + prefix + "… from " + what);
        }
    };
    if (config.contains("agents") && config["agents"].is_object()) {
        auto& agents = config["agents"];
        if (agents.contains("defaults") && agents["defaults"].is_object()) {
            auto& defaults = agents["defaults"];
            if (defaults.contains("model")) {
                if (restore(defaults["model"], "default model")) {
                    defaults.erase("model");
                } else if (defaults["model"].is_object() &&
                           defaults["model"].contains("fallbacks")) {
                    drop_refs(defaults["model"]["fallbacks"], "fallbacks");
                }
            }
            if (defaults.contains("modelPolicy") && defaults["modelPolicy"].is_object() &&
                defaults["modelPolicy"].contains("allow")) {
                drop_refs(defaults["modelPolicy"]["allow"], "modelPolicy.allow");
            }
            if (defaults.contains("models") && defaults["models"].is_object()) {
                std::vector<std::string> ours;
                for (auto& [key, value] : defaults["models"].items()) {
                    if (starts_with(key, prefix)) {
                        ours.push_back(key);
                    }
                }
                for (const auto& key : ours) {
                    defaults["models"].erase(key);
                    result.changes.push_back("removed " + key + " from agents.defaults.models");
                }
            }
        }
        if (agents.contains("entries") && agents["entries"].is_object() &&
            agents["entries"].contains("main") && agents["entries"]["main"].is_object() &&
            agents["entries"]["main"].contains("model") &&
            restore(agents["entries"]["main"]["model"], "main agent model")) {
            agents["entries"]["main"].erase("model");
        }
        if (Json* entry = legacy_main(agents);
            entry && entry->contains("model") && restore((*entry)["model"], "main agent model")) {
            entry->erase("model");
        }
    }
    result.primary = default_primary(config);
    result.config = std::move(config);
    return result;
}

} // namespace aimo::openclaw
