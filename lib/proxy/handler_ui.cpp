// The dashboard's routes: the page and the JSON it reads, behind the same check as /metrics.
#include "core/error.hpp"
#include "core/json.hpp"
#include "proxy/errors.hpp"
#include "proxy/handler.hpp"
#include "ui/owner.hpp"
#include "ui/page.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace aimo::proxy {

namespace {
// The value of `name` in a raw query string ("range=hour&by=agent"), or `fallback`.
std::string query_value(std::string_view query, std::string_view name, std::string fallback) {
    while (!query.empty()) {
        auto end = query.find('&');
        auto pair = query.substr(0, end);
        if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
            pair[name.size()] == '=') {
            return std::string(pair.substr(name.size() + 1));
        }
        if (end == std::string_view::npos) {
            break;
        }
        query.remove_prefix(end + 1);
    }
    return fallback;
}

constexpr std::string_view agents_path = "/api/aimo/agents";

// Who acted, for the owner actions' record.
std::string origin_of(const Request& request) {
    return request.peer ? request.peer() : std::string("unknown");
}

Response error_for(const core::Error& e) {
    auto message = e.what() + std::string("; ") + e.hint();
    switch (e.kind()) {
    case core::ErrorKind::usage:
    case core::ErrorKind::invalid_input:
        return error_response(400, message, "invalid_request_error", "invalid_parameter");
    case core::ErrorKind::not_found:
        return error_response(404, message, "invalid_request_error", "agent_not_found");
    case core::ErrorKind::already_exists:
        return error_response(409, message, "invalid_request_error", "agent_exists");
    default:
        return error_response(500, message, "server_error", "dashboard_unavailable");
    }
}
} // namespace

std::optional<Response> Handler::owner_action(const Request& request) {
    const auto& path = request.path;
    if (path != agents_path && path.rfind(std::string(agents_path) + "/", 0) != 0) {
        return std::nullopt;
    }
    if (m_owner == nullptr) {
        return error_response(403,
                              "owner actions are off on this proxy (the dashboard is read-only); "
                              "start aimo with ui_admin = true to allow them",
                              "permission_error", "owner_actions_disabled");
    }
    // A custom header cannot be sent across origins without a preflight aimo never answers,
    // so another site's page cannot act through an owner's browser.
    auto secret = request.header("x-aimo-owner");
    if (secret.empty()) {
        return error_response(401, "owner actions need the owner secret in the X-Aimo-Owner header",
                              "authentication_error", "owner_secret_required");
    }
    if (!m_owner->accepts(secret)) {
        return error_response(403, "the owner secret is wrong (an agent's token is never one)",
                              "permission_error", "owner_secret_invalid");
    }
    // /api/aimo/agents, /api/aimo/agents/NAME or /api/aimo/agents/NAME/revoke
    std::string rest = path == agents_path ? "" : path.substr(agents_path.size() + 1);
    bool revoke = rest.size() > 7 && rest.compare(rest.size() - 7, 7, "/revoke") == 0;
    std::string name = revoke ? rest.substr(0, rest.size() - 7) : rest;
    try {
        auto origin = origin_of(request);
        Response response;
        if (name.empty()) {
            std::string created;
            auto patch = ui::parse_agent_patch(request.body, &created);
            auto token = m_owner->create(created, patch, origin);
            response.status = 201;
            response.body = core::json_text(nlohmann::json{{"name", created}, {"token", token}});
        } else if (revoke) {
            m_owner->revoke(name, origin);
            response.body = core::json_text(nlohmann::json{{"name", name}, {"state", "revoked"}});
        } else {
            m_owner->update(name, ui::parse_agent_patch(request.body, nullptr), origin);
            response.body = core::json_text(nlohmann::json{{"name", name}, {"state", "updated"}});
        }
        response.headers.add("Cache-Control", "no-store");
        return response;
    } catch (const core::Error& e) {
        return error_for(e);
    }
}

std::optional<Response> Handler::dashboard(const Request& request, bool get) {
    const auto& path = request.path;
    if (m_dashboard == nullptr) {
        return std::nullopt;
    }
    if (request.method == "POST") {
        if (auto acted = owner_action(request)) {
            return acted;
        }
    }
    bool page = path == "/ui" || path == "/ui/";
    bool data = path == agents_path || path == "/api/aimo/requests" || path == "/api/aimo/series" ||
                path == "/api/aimo/balance";
    if (!page && !data) {
        return std::nullopt;
    }
    if (!get) {
        bool post = path == agents_path;
        auto response =
            error_response(405,
                           fmt::format("{} {} is not supported; use GET{}", request.method, path,
                                       post ? " (or POST, for an owner action)" : ""),
                           "invalid_request_error", "method_not_allowed");
        response.headers.add("Allow", post ? "GET, POST" : "GET");
        return response;
    }
    if (page) {
        // Beyond loopback the page, too, needs an agent's token; a link cannot carry a header,
        // so it may come as ?token=, which the page then sends on with every data request.
        auto token = query_value(request.query, "token", "");
        if (auto refused = refuse_observer(token.empty() ? request.header("authorization")
                                                         : "Bearer " + token)) {
            return std::move(*refused);
        }
        Response response;
        response.content_type = "text/html; charset=utf-8";
        response.headers.add("Content-Security-Policy", std::string(ui::page_policy()));
        response.headers.add("X-Content-Type-Options", "nosniff");
        response.headers.add("Referrer-Policy", "no-referrer");
        response.headers.add("Cache-Control", "no-store");
        response.body = std::string(ui::page_html());
        return response;
    }
    if (auto refused = refuse_observer(request.header("authorization"))) {
        return std::move(*refused);
    }
    auto now = std::chrono::system_clock::now();
    Response response;
    response.headers.add("Cache-Control", "no-store");
    try {
        if (path == agents_path) {
            response.body = m_dashboard->agents_json(now);
        } else if (path == "/api/aimo/requests") {
            response.body = m_dashboard->requests_json(50);
        } else if (path == "/api/aimo/balance") {
            response.body = m_dashboard->balance_json(now);
        } else {
            response.body =
                m_dashboard->series_json(query_value(request.query, "range", "hour"),
                                         query_value(request.query, "by", "agent"), now);
        }
    } catch (const core::Error& e) {
        return error_for(e);
    }
    return response;
}

} // namespace aimo::proxy
