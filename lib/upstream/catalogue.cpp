#include "upstream/catalogue.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace aimo::upstream {

using nlohmann::json;

namespace {
std::optional<double> as_number(const json& value) {
    if (value.is_number()) {
        return value.get<double>();
    }
    if (value.is_string()) {
        try {
            size_t used = 0;
            double number = std::stod(value.get<std::string>(), &used);
            if (used == value.get<std::string>().size()) {
                return number;
            }
        } catch (const std::exception&) {
        }
    }
    return std::nullopt;
}

std::optional<double> price(const json& pricing, const char* key, const char* alt) {
    if (!pricing.is_object()) {
        return std::nullopt;
    }
    for (const char* name : {key, alt}) {
        if (auto it = pricing.find(name); it != pricing.end()) {
            if (auto number = as_number(*it); number && *number >= 0 && std::isfinite(*number)) {
                return *number; // in the catalogue's own unit until the list is read whole
            }
        }
    }
    return std::nullopt;
}

void take_pricing(ModelInfo& info, const json& pricing) {
    auto prompt = price(pricing, "prompt", "input");
    auto completion = price(pricing, "completion", "output");
    if (prompt && (!info.prompt_usd_per_million || *prompt < *info.prompt_usd_per_million)) {
        info.prompt_usd_per_million = prompt;
        info.completion_usd_per_million = completion;
    }
}

// Catalogues quote prices per token (OpenRouter's convention: a few millionths of a dollar) or
// per million tokens (around 0.05 to 200); the unit is not written down. No real model costs
// $0.001 or more per token, so a list whose dearest price is below that is per token. Prices
// read either way and still past $10,000 per million are not believed: they are dropped with
// a warning (unknown prices cost nothing) rather than turning every request into a 402.
void read_price_unit(Catalogue& catalogue, const std::string& source) {
    double dearest = 0;
    for (const auto& model : catalogue.models) {
        dearest = std::max({dearest, model.prompt_usd_per_million.value_or(0),
                            model.completion_usd_per_million.value_or(0)});
    }
    if (dearest == 0) {
        catalogue.price_unit = PriceUnit::none;
        return;
    }
    catalogue.price_unit = dearest < 0.001 ? PriceUnit::per_token : PriceUnit::per_million;
    double scale = catalogue.price_unit == PriceUnit::per_token ? 1e6 : 1;
    constexpr double implausible = 10'000; // USD per million tokens
    for (auto& model : catalogue.models) {
        for (auto* price : {&model.prompt_usd_per_million, &model.completion_usd_per_million}) {
            if (!*price) {
                continue;
            }
            **price *= scale;
            if (**price > implausible) {
                catalogue.warnings.push_back(fmt::format(
                    "{}: model {} is priced at ${:.0f} per million tokens, which no model costs; "
                    "its price is ignored",
                    source, model.id, **price));
                model.prompt_usd_per_million.reset();
                model.completion_usd_per_million.reset();
                break;
            }
        }
    }
}

ModelInfo parse_model(const json& entry, const std::string& source, size_t index) {
    if (!entry.is_object()) {
        throw core::Error(core::ErrorKind::upstream_protocol,
                          fmt::format("{}: model #{} is not an object", source, index));
    }
    ModelInfo info;
    for (const char* key : {"id", "name"}) {
        if (auto it = entry.find(key);
            it != entry.end() && it->is_string() && !it->get<std::string>().empty()) {
            info.id = *it;
            break;
        }
    }
    if (info.id.empty()) {
        throw core::Error(core::ErrorKind::upstream_protocol,
                          fmt::format("{}: model #{} has neither id nor name", source, index));
    }
    json object = {{"id", info.id}, {"object", "model"}};
    object["created"] = entry.value("created", json(0)).is_number_integer()
                            ? entry.value("created", json(0))
                            : json(0);
    std::string owner = "aimo";
    if (auto it = entry.find("owned_by"); it != entry.end() && it->is_string()) {
        owner = *it;
    } else if (auto slash = info.id.find('/'); slash != std::string::npos) {
        owner = info.id.substr(0, slash);
    }
    object["owned_by"] = owner;
    for (const char* key : {"display_name", "description", "context_length", "pricing", "providers",
                            "architecture", "top_provider"}) {
        if (auto it = entry.find(key); it != entry.end() && !it->is_null()) {
            object[key] = *it;
        }
    }
    info.display_name = entry.value("display_name", json(info.id)).is_string()
                            ? entry.value("display_name", info.id)
                            : info.id;
    if (auto it = entry.find("context_length"); it != entry.end() && it->is_number_integer()) {
        info.context_length = it->get<int64_t>();
    }
    if (auto it = entry.find("pricing"); it != entry.end()) {
        take_pricing(info, *it);
    }
    if (auto it = entry.find("providers"); it != entry.end() && it->is_array()) {
        for (const auto& provider : *it) {
            if (!provider.is_object()) {
                continue;
            }
            if (auto pricing = provider.find("pricing"); pricing != provider.end()) {
                take_pricing(info, *pricing);
            }
            if (auto ctx = provider.find("context_length");
                !info.context_length && ctx != provider.end() && ctx->is_number_integer()) {
                info.context_length = ctx->get<int64_t>();
            }
        }
    }
    if (info.context_length && !object.contains("context_length")) {
        object["context_length"] = *info.context_length;
    }
    info.object = std::move(object);
    return info;
}
} // namespace

std::string_view to_string(PriceUnit unit) {
    switch (unit) {
    case PriceUnit::per_token:
        return "USD per token";
    case PriceUnit::per_million:
        return "USD per million tokens";
    case PriceUnit::none:
        break;
    }
    return "no prices";
}

const ModelInfo* Catalogue::find(std::string_view id) const {
    for (const auto& model : models) {
        if (model.id == id) {
            return &model;
        }
    }
    return nullptr;
}

Catalogue parse_catalogue(std::string_view body, const std::string& source) {
    json parsed = json::parse(body, nullptr, false);
    const json* list = nullptr;
    if (parsed.is_array()) {
        list = &parsed;
    } else if (parsed.is_object()) {
        for (const char* key : {"data", "models"}) {
            if (auto it = parsed.find(key); it != parsed.end() && it->is_array()) {
                list = &*it;
                break;
            }
        }
    }
    if (list == nullptr) {
        throw core::Error(core::ErrorKind::upstream_protocol,
                          fmt::format("{} did not answer with a model list", source),
                          "check that --router-url points at the AiMo router");
    }
    Catalogue catalogue;
    for (size_t i = 0; i < list->size(); ++i) {
        catalogue.models.push_back(parse_model((*list)[i], source, i));
    }
    read_price_unit(catalogue, source);
    return catalogue;
}

json to_openai_list(const Catalogue& catalogue) {
    json data = json::array();
    for (const auto& model : catalogue.models) {
        data.push_back(model.object);
    }
    return {{"object", "list"}, {"data", std::move(data)}};
}

void check_status(int status, const std::string& body, const std::string& url) {
    if (status >= 200 && status < 300) {
        return;
    }
    std::string detail;
    json parsed = json::parse(body, nullptr, false);
    if (parsed.is_object()) {
        const json& error = parsed.contains("error") ? parsed["error"] : parsed;
        if (error.is_object() && error.contains("message") && error["message"].is_string()) {
            detail = error["message"];
        } else if (error.is_string()) {
            detail = error;
        }
    }
    if (detail.empty()) {
        detail = body.substr(0, 200);
    }
    std::string hint;
    switch (status) {
    case 401:
    case 403:
        hint = "the router rejected the signature: check the clock ('aimo doctor') and keypair";
        break;
    case 402:
        hint = "the wallet has no balance left: top it up, then check 'aimo router get-balance'";
        break;
    case 429:
        hint = "rate limited: wait a moment and try again";
        break;
    default:
        hint = status >= 500 ? "the router is having trouble; try again shortly" : "";
    }
    throw core::Error(core::ErrorKind::upstream_status,
                      fmt::format("{} answered {}: {}", url, status, detail), hint);
}

Catalogue fetch_catalogue(const AimoRouter& router) {
    auto response = router.send("GET", "/models", "", {{"Accept", "application/json"}}, "");
    std::string body = response.read_all(64 * 1024 * 1024);
    std::string url = router.url_for("/models", "");
    check_status(response.status, body, url);
    return parse_catalogue(body, url);
}

} // namespace aimo::upstream
