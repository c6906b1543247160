#include "proxy/handler.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "openai/request.hpp"
#include "proxy/dialects.hpp"
#include "proxy/errors.hpp"
#include "proxy/status.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace aimo::proxy {

namespace {
constexpr std::array<std::string_view, 3> forwarded_paths = {"/v1/chat/completions",
                                                             "/v1/completions", "/v1/embeddings"};

Response json_ok(std::string body) {
    Response response;
    response.body = std::move(body);
    return response;
}

Response wrong_method(const Request& request, const char* allowed) {
    auto response = error_response(
        405, fmt::format("{} {} is not supported; use {}", request.method, request.path, allowed),
        "invalid_request_error", "method_not_allowed");
    response.headers.add("Allow", allowed);
    return response;
}
} // namespace

Response Handler::handle(const Request& request) {
    const auto& path = request.path;
    bool get = request.method == "GET" || request.method == "HEAD";
    if (path == "/health") {
        return get ? json_ok(fmt::format(R"({{"status":"ok","service":"aimo","version":"{}"}})",
                                         AIMO_VERSION))
                   : wrong_method(request, "GET");
    }
    if (path == "/metrics" && m_metrics != nullptr) {
        return get ? metrics(request) : wrong_method(request, "GET");
    }
    if (path == "/api/aimo/status") {
        return get ? status(request) : wrong_method(request, "GET");
    }
    if (path == "/favicon.ico" && get) {
        // Browsers ask for it on any page they open here (a refused one, /health): no icon,
        // rather than a 404 in their console.
        Response none;
        none.status = 204;
        none.headers.add("Cache-Control", "max-age=86400");
        return none;
    }
    if (path.rfind("/ui", 0) == 0 || path.rfind("/api/aimo/", 0) == 0) {
        if (auto page = dashboard(request, get)) {
            return std::move(*page);
        }
    }
    if (path == "/v1/models" || path == "/v1/models/") {
        return get ? list_models(request) : wrong_method(request, "GET");
    }
    if (path.rfind("/v1/models/", 0) == 0) {
        return get ? get_model(request, std::string_view(path).substr(11))
                   : wrong_method(request, "GET");
    }
    if (path == "/v1/messages" || path == "/v1/messages/count_tokens") {
        if (request.method != "POST") {
            auto refused = anthropic_error(
                405, fmt::format("{} {} is not supported; use POST", request.method, path));
            refused.headers.add("Allow", "POST");
            return refused;
        }
        if (path != "/v1/messages") {
            return count_message_tokens(m_gate, request);
        }
        auto first = first_provider(request);
        return first && first->kind == routing::ProviderKind::anthropic
                   ? forward_native_messages(m_forwarder, request)
                   : forward_messages(m_forwarder, request);
    }
    if (path == "/v1/responses") {
        if (request.method != "POST") {
            return wrong_method(request, "POST");
        }
        auto first = first_provider(request);
        return first && first->responses ? m_forwarder.forward(request, "/responses")
                                         : forward_responses(m_forwarder, request);
    }
    if (std::find(forwarded_paths.begin(), forwarded_paths.end(), path) != forwarded_paths.end()) {
        if (request.method != "POST") {
            return wrong_method(request, "POST");
        }
        if (path == "/v1/chat/completions" && has_anthropic_provider()) {
            if (auto first = first_provider(request);
                first && first->kind == routing::ProviderKind::anthropic) {
                return forward_chat_to_messages(m_forwarder, request);
            }
        }
        return m_forwarder.forward(request, std::string_view(path).substr(3));
    }
    return error_response(
        404,
        fmt::format(
            "no route for {} {}: aimo serves /v1/chat/completions, /v1/completions, "
            "/v1/embeddings, /v1/responses, /v1/messages, /v1/models, /health, /metrics and "
            "/api/aimo/status (is the client's "
            "base URL missing /v1?)",
            request.method, path),
        "invalid_request_error", "not_found");
}

std::optional<Handler::FirstProvider> Handler::first_provider(const Request& request) const {
    auto body = openai::scan_body(request.body);
    if (!body.has_model) {
        return std::nullopt; // the translation says what is wrong with it
    }
    try {
        auto table = m_gateway.current();
        const auto* provider = table->provider(table->resolve(body.model).targets.front().provider);
        if (provider == nullptr) {
            return std::nullopt;
        }
        return FirstProvider{provider->config().kind, provider->config().responses};
    } catch (const core::Error&) {
        return std::nullopt; // the forwarder says why it has no route
    }
}

bool Handler::has_anthropic_provider() const {
    auto table = m_gateway.current();
    for (const auto& provider : table->providers()) {
        if (provider.config().kind == routing::ProviderKind::anthropic) {
            return true;
        }
    }
    return false;
}

std::optional<Response> Handler::refuse_observer(std::string_view authorization) {
    if (m_metrics_need_token) {
        auto who = m_gate.identify(authorization);
        if (auto* denial = std::get_if<governance::Denial>(&who)) {
            return denial_response(*denial);
        }
    }
    return std::nullopt;
}

Response Handler::status(const Request& request) {
    if (auto refused = refuse_observer(request.header("authorization"))) {
        return std::move(*refused);
    }
    std::vector<std::string> configured;
    for (const auto& provider : m_gateway.current()->providers()) {
        configured.push_back(provider.name());
    }
    auto status = status_json(m_forwarder.scheduler().states(), configured);
    // What the dashboard shows of each provider besides its queue: its circuit, and how its
    // last hour went (from the ledger).
    auto hour = m_dashboard != nullptr
                    ? m_dashboard->provider_hour(std::chrono::system_clock::now())
                    : std::map<std::string, ui::ProviderHour>{};
    std::map<std::string, bool> open;
    for (const auto& provider : m_gateway.current()->providers()) {
        open[provider.name()] = provider.breaker().is_open();
    }
    for (auto& provider : status["providers"]) {
        auto name = provider["provider"].get<std::string>();
        provider["circuit"] = open[name] ? "open" : "closed";
        const auto& used = hour[name];
        provider["last_hour"] = {{"requests", used.requests},
                                 {"errors", used.errors},
                                 {"p50_ms", used.p50_ms},
                                 {"p95_ms", used.p95_ms}};
    }
    status["wallet"] = m_wallet.empty() ? nlohmann::json(nullptr) : nlohmann::json(m_wallet);
    status["owner_actions"] = m_owner != nullptr;
    return json_ok(core::json_text(status));
}

Response Handler::metrics(const Request& request) {
    if (auto refused = refuse_observer(request.header("authorization"))) {
        return std::move(*refused);
    }
    Response response;
    response.content_type = "text/plain; version=0.0.4";
    response.body = m_metrics->render(m_forwarder.scheduler().states());
    return response;
}

Response Handler::list_models(const Request& request) {
    auto who = m_gate.identify(request.header("authorization"));
    if (auto* denial = std::get_if<governance::Denial>(&who)) {
        return denial_response(*denial);
    }
    const auto& caller = std::get<governance::Caller>(who);
    try {
        auto cached = m_gateway.current()->catalogue();
        if (!caller.agent) {
            return json_ok(cached->list_json);
        }
        // An agent sees the models it may use, nothing else.
        upstream::Catalogue mine;
        for (const auto& model : cached->catalogue.models) {
            if (m_gate.allows(caller, model.id)) {
                mine.models.push_back(model);
            }
        }
        if (mine.models.size() == cached->catalogue.models.size()) {
            return json_ok(cached->list_json);
        }
        return json_ok(core::json_text(upstream::to_openai_list(mine)));
    } catch (const core::Error& e) {
        return upstream_error_response(e);
    }
}

Response Handler::get_model(const Request& request, std::string_view id) {
    auto who = m_gate.identify(request.header("authorization"));
    if (auto* denial = std::get_if<governance::Denial>(&who)) {
        return denial_response(*denial);
    }
    auto missing = [&] {
        return error_response(
            404, fmt::format("model '{}' is not in the catalogue; see GET /v1/models", id),
            "invalid_request_error", "model_not_found");
    };
    if (!m_gate.allows(std::get<governance::Caller>(who), id)) {
        return missing(); // what an agent may not use does not exist for it
    }
    try {
        auto table = m_gateway.current();
        auto cached = table->catalogue();
        if (const auto* model = table->find_model(*cached, id)) {
            return json_ok(core::json_text(model->object));
        }
        return missing();
    } catch (const core::Error& e) {
        return upstream_error_response(e);
    }
}

} // namespace aimo::proxy
