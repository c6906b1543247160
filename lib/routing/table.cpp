#include "routing/table.hpp"

#include "core/error.hpp"
#include "core/json.hpp"

#include <fmt/format.h>

namespace aimo::routing {

using core::Error;
using core::ErrorKind;

Table::Table(RoutingConfig config, std::shared_ptr<const crypto::SiwxSigner> signer,
             upstream::ClientPool& pool, std::chrono::seconds catalogue_ttl)
    : m_config(std::move(config)),
      m_catalogue([this] { return fetch_catalogue(); }, catalogue_ttl) {
    for (const auto& provider : m_config.providers) {
        m_providers.emplace_back(provider, signer, pool, m_config.breaker);
    }
}

const Provider* Table::provider(std::string_view name) const {
    for (const auto& p : m_providers) {
        if (p.name() == name) {
            return &p;
        }
    }
    return nullptr;
}

std::shared_ptr<const CachedCatalogue> Table::catalogue() const {
    return m_catalogue.get();
}

CachedCatalogue Table::fetch_catalogue() const {
    CachedCatalogue out;
    std::optional<Error> first_error;
    if (m_config.implicit) {
        out.catalogue = m_providers.front().fetch_models(); // as the router lists them
        out.warnings = out.catalogue.warnings;
    }
    for (const auto& provider : m_providers) {
        if (m_config.implicit) {
            break;
        }
        upstream::Catalogue models;
        try {
            models = provider.fetch_models();
        } catch (const Error& e) {
            out.problems.push_back(fmt::format("{}: {}", provider.name(), e.what()));
            if (!first_error) {
                first_error = e;
            }
            continue;
        }
        out.warnings.insert(out.warnings.end(), models.warnings.begin(), models.warnings.end());
        for (auto& model : models.models) {
            out.providers_by_model[model.id].push_back(provider.name());
            model.object["aimo_provider"] = provider.name();
            model.object["aimo_model"] = model.id;
            model.id = provider.name() + "/" + model.id;
            model.object["id"] = model.id;
            out.catalogue.models.push_back(std::move(model));
        }
    }
    if (out.catalogue.models.empty() && first_error && out.problems.size() == m_providers.size()) {
        throw *first_error;
    }
    auto entry_for = [&](const std::string& id, const std::string& target) {
        upstream::ModelInfo info;
        if (const auto* found = find_model(out, target)) {
            info = *found;
        } else {
            info.object = {{"object", "model"}, {"created", 0}};
        }
        info.id = id;
        info.object["id"] = id;
        info.object["owned_by"] = "aimo";
        info.object.erase("aimo_provider");
        info.object.erase("aimo_model");
        return info;
    };
    for (const auto& route : m_config.routes) {
        auto info = entry_for(route.model, route.targets.front().name());
        auto& names = info.object["aimo_targets"] = nlohmann::json::array();
        for (const auto& target : route.targets) {
            names.push_back(target.name());
        }
        out.catalogue.models.push_back(std::move(info));
    }
    for (const auto& [alias, target] : m_config.aliases) {
        auto info = entry_for(alias, target);
        info.object["aimo_alias_of"] = target;
        out.catalogue.models.push_back(std::move(info));
    }
    out.list_json = core::json_text(upstream::to_openai_list(out.catalogue));
    return out;
}

const upstream::ModelInfo* Table::find_model(const CachedCatalogue& catalogue,
                                             std::string_view id) const {
    if (const auto* model = catalogue.catalogue.find(id)) {
        return model;
    }
    auto offered = catalogue.providers_by_model.find(id);
    if (offered != catalogue.providers_by_model.end() && offered->second.size() == 1) {
        return catalogue.catalogue.find(offered->second.front() + "/" + std::string(id));
    }
    return nullptr;
}

std::pair<double, double> Table::prices(const Target& target) const {
    const Provider* p = provider(target.provider);
    if (p == nullptr) {
        return {0, 0};
    }
    std::pair<double, double> out{p->config().price_in.value_or(0),
                                  p->config().price_out.value_or(0)};
    if (p->config().price_in || p->config().price_out) {
        return out; // the owner's prices win over anything guessed from a list
    }
    if (auto cached = m_catalogue.get_if_available()) { // none: the price is unknown
        const auto* model =
            cached->catalogue.find(m_config.implicit ? target.model : target.name());
        if (model != nullptr && model->prompt_usd_per_million) {
            out = {*model->prompt_usd_per_million, model->completion_usd_per_million.value_or(0)};
        }
    }
    return out;
}

Plan Table::resolve(std::string_view model) const {
    Plan plan;
    std::string name(model);
    if (auto alias = m_config.aliases.find(name); alias != m_config.aliases.end()) {
        name = alias->second;
    }
    if (const auto* route = m_config.route(name)) {
        plan.targets = route->targets;
        return plan;
    }
    if (auto slash = name.find('/'); slash != std::string::npos) {
        if (const auto* p = provider(std::string_view(name).substr(0, slash));
            p != nullptr && slash + 1 < name.size()) {
            plan.targets.push_back({p->name(), name.substr(slash + 1)});
            return plan;
        }
    }
    if (m_providers.size() == 1) {
        plan.targets.push_back({m_providers.front().name(), name});
        return plan;
    }
    if (name.empty()) {
        throw Error(ErrorKind::invalid_input,
                    "the request names no model, and several providers are configured",
                    "set \"model\" to <provider>/<model>, a route or an alias");
    }
    auto cached = catalogue();
    auto offered = cached->providers_by_model.find(name);
    if (offered == cached->providers_by_model.end()) {
        std::string why = cached->problems.empty()
                              ? ""
                              : " (some providers' model lists are unavailable: " +
                                    fmt::format("{}", fmt::join(cached->problems, "; ")) + ")";
        throw Error(ErrorKind::not_found,
                    fmt::format("model '{}' is not offered by any provider{}", model, why),
                    "see GET /v1/models, or name it as <provider>/<model>");
    }
    if (offered->second.size() > 1) {
        std::vector<std::string> options;
        for (const auto& p : offered->second) {
            options.push_back(p + "/" + name);
        }
        throw Error(ErrorKind::invalid_input,
                    fmt::format("model '{}' is offered by several providers: {}", model,
                                fmt::join(options, ", ")),
                    "name one of them, or add a [[routes]] entry for it");
    }
    plan.targets.push_back({offered->second.front(), name});
    return plan;
}

} // namespace aimo::routing
