#include "openclaw/models_source.hpp"

#include "core/error.hpp"
#include "routing/loader.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace aimo::openclaw {

ProviderModel to_provider_model(const upstream::ModelInfo& model) {
    ProviderModel out;
    out.id = model.id;
    out.name = model.display_name.empty() ? model.id : model.display_name;
    out.context_window = model.context_length.value_or(128000);
    out.max_tokens = std::min<int64_t>(8192, out.context_window);
    const auto& object = model.object;
    if (object.contains("top_provider") && object["top_provider"].is_object()) {
        const auto& top = object["top_provider"];
        if (top.contains("max_completion_tokens") &&
            top["max_completion_tokens"].is_number_integer()) {
            out.max_tokens = top["max_completion_tokens"].get<int64_t>();
        }
    }
    if (object.contains("reasoning") && object["reasoning"].is_boolean()) {
        out.reasoning = object["reasoning"].get<bool>();
    }
    return out;
}

ModelList fetch_models(const core::Context& ctx, const std::string& proxy_base_url,
                       const config::Config& config, const std::string& api_key) {
    ModelList list;
    std::string proxy_problem;
    try {
        auto url = upstream::parse_url(proxy_base_url, "proxy URL");
        auto response = upstream::fetch_once(
            url, url.path + "/models", {std::chrono::seconds(2), std::chrono::seconds(30)}, {},
            64 * 1024 * 1024, {{"Authorization", "Bearer " + api_key}});
        upstream::check_status(response.status, response.body, url.join("/models"));
        auto catalogue = upstream::parse_catalogue(response.body, url.join("/models"));
        for (const auto& model : catalogue.models) {
            list.models.push_back(to_provider_model(model));
        }
        list.source = "the running proxy at " + proxy_base_url;
        return list;
    } catch (const core::Error& e) {
        proxy_problem = e.what();
    }
    try {
        auto env = [&ctx](std::string_view name) { return ctx.getenv(name); };
        auto snapshot =
            routing::fetch_configured_models(ctx, config.router, config.routing(env), config.path);
        for (const auto& model : snapshot.catalogue->catalogue.models) {
            list.models.push_back(to_provider_model(model));
        }
        list.source = snapshot.source;
        return list;
    } catch (const core::Error& e) {
        throw core::Error(core::ErrorKind::upstream_unreachable,
                          fmt::format("no model catalogue: the proxy said \"{}\", and fetching "
                                      "it directly failed: \"{}\"",
                                      proxy_problem, e.what()),
                          "start 'aimo chat --serve' first, or name a model with --model");
    }
}

} // namespace aimo::openclaw
