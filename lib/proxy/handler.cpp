#include "proxy/handler.hpp"

#include "core/error.hpp"
#include "proxy/body_scan.hpp"
#include "proxy/errors.hpp"
#include "proxy/relay.hpp"

#include <algorithm>
#include <array>
#include <fmt/format.h>

namespace aimo::proxy {

namespace {
constexpr std::array<std::string_view, 4> forwarded_paths = {
    "/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/responses"};
constexpr size_t max_upstream_body = 64 * 1024 * 1024;

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

// Headers that describe one hop, the client's credentials, or framing aimo recomputes.
bool dropped_request_header(std::string_view name) {
    for (std::string_view dropped :
         {"authorization", "host", "content-length", "connection", "keep-alive",
          "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding",
          "upgrade", "accept-encoding", "sign-in-with-x", "x-api-key", "expect"}) {
        if (iequals(name, dropped)) {
            return true;
        }
    }
    return false;
}

bool dropped_response_header(std::string_view name) {
    for (std::string_view dropped :
         {"connection", "keep-alive", "transfer-encoding", "content-length", "content-type", "date",
          "server", "trailer", "upgrade", "set-cookie", "x-request-id", "content-encoding"}) {
        if (name == dropped) {
            return true;
        }
    }
    return false;
}

long long micros_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 start)
        .count();
}

Response json_ok(std::string body) {
    Response response;
    response.body = std::move(body);
    return response;
}
} // namespace

std::string Request::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) {
            return value;
        }
    }
    return {};
}

Response Handler::handle(const Request& request) {
    const auto& path = request.path;
    bool get = request.method == "GET" || request.method == "HEAD";
    if (path == "/health") {
        if (get) {
            return json_ok(
                fmt::format(R"({{"status":"ok","service":"aimo","version":"{}"}})", AIMO_VERSION));
        }
    } else if (path == "/v1/models" || path == "/v1/models/") {
        if (get) {
            return list_models();
        }
    } else if (path.rfind("/v1/models/", 0) == 0) {
        if (get) {
            return get_model(std::string_view(path).substr(11));
        }
    } else if (std::find(forwarded_paths.begin(), forwarded_paths.end(), path) !=
               forwarded_paths.end()) {
        if (request.method == "POST") {
            return forward(request, std::string_view(path).substr(3));
        }
        auto response = error_response(
            405, fmt::format("{} {} is not supported; use POST", request.method, path),
            "invalid_request_error", "method_not_allowed");
        response.headers.emplace_back("Allow", "POST");
        return response;
    } else {
        return error_response(
            404,
            fmt::format("no route for {} {}: aimo serves /v1/chat/completions, /v1/completions, "
                        "/v1/embeddings, /v1/responses, /v1/models and /health (is the client's "
                        "base URL missing /v1?)",
                        request.method, path),
            "invalid_request_error", "not_found");
    }
    auto response =
        error_response(405, fmt::format("{} {} is not supported; use GET", request.method, path),
                       "invalid_request_error", "method_not_allowed");
    response.headers.emplace_back("Allow", "GET");
    return response;
}

Response Handler::list_models() {
    try {
        return json_ok(m_catalogue.get()->list_json);
    } catch (const core::Error& e) {
        return upstream_error_response(e);
    }
}

Response Handler::get_model(std::string_view id) {
    try {
        auto cached = m_catalogue.get();
        if (const auto* model = cached->catalogue.find(id)) {
            return json_ok(model->object.dump());
        }
        return error_response(
            404, fmt::format("model '{}' is not in the router's catalogue; see GET /v1/models", id),
            "invalid_request_error", "model_not_found");
    } catch (const core::Error& e) {
        return upstream_error_response(e);
    }
}

Response Handler::forward(const Request& request, std::string_view rest) {
    auto start = std::chrono::steady_clock::now();
    BodySummary summary = scan_body(request.body);
    if (!summary.valid_json) {
        return error_response(400, "request body is not valid JSON: " + summary.error,
                              "invalid_request_error", "invalid_json");
    }
    if (!summary.is_object) {
        return error_response(400, "request body must be a JSON object", "invalid_request_error",
                              "invalid_json");
    }

    upstream::Headers headers;
    headers.reserve(request.headers.size() + 1);
    for (const auto& [name, value] : request.headers) {
        if (!dropped_request_header(name)) {
            headers.emplace_back(name, value);
        }
    }
    LogFields log;
    log.model = summary.model;
    std::shared_ptr<upstream::HttpResponse> answer;
    try {
        answer = std::make_shared<upstream::HttpResponse>(
            m_router.send("POST", rest, request.query, std::move(headers), request.body));
    } catch (const core::Error& e) {
        auto response = upstream_error_response(e);
        response.log = log;
        return response;
    }
    log.upstream_us = answer->wait_us;

    Response response;
    response.status = answer->status;
    for (const auto& [name, value] : answer->headers) {
        if (!dropped_response_header(name)) {
            response.headers.emplace_back(name, value);
        }
    }
    const std::string* type = answer->header("content-type");
    response.content_type = type ? *type : "application/json";
    bool success = answer->status >= 200 && answer->status < 300;
    bool sse = type && type->find("text/event-stream") != std::string::npos;
    if (success && (sse || !answer->header("content-length"))) {
        response.stream = sse ? relay_sse(answer) : relay_raw(answer);
    } else {
        try {
            response.body = answer->read_all(max_upstream_body);
        } catch (const core::Error& e) {
            response = upstream_error_response(e);
        }
    }
    log.overhead_us = std::max(0LL, micros_since(start) - answer->wait_us);
    response.log = log;
    return response;
}

} // namespace aimo::proxy
