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
        return json_ok(m_gateway.current()->catalogue()->list_json);
    } catch (const core::Error& e) {
        return upstream_error_response(e);
    }
}

Response Handler::get_model(std::string_view id) {
    try {
        auto table = m_gateway.current();
        auto cached = table->catalogue();
        if (const auto* model = table->find_model(*cached, id)) {
            return json_ok(model->object.dump());
        }
        return error_response(
            404, fmt::format("model '{}' is not in the catalogue; see GET /v1/models", id),
            "invalid_request_error", "model_not_found");
    } catch (const core::Error& e) {
        return upstream_error_response(e);
    }
}

namespace {
void add_routing_headers(Response& response, const routing::Dispatch& dispatch) {
    response.headers.emplace_back("x-aimo-provider", dispatch.provider());
    response.headers.emplace_back("x-aimo-attempts", dispatch.attempts_text());
    response.log.provider = dispatch.provider();
    response.log.attempts = dispatch.attempts_text();
    response.log.upstream_us = dispatch.upstream_us();
}

Response failure_response(const routing::Dispatch& dispatch) {
    if (dispatch.retry_after().count() > 0) {
        auto response =
            error_response(503, dispatch.error().what(), "upstream_error", "provider_unavailable");
        auto seconds = (dispatch.retry_after().count() + 999) / 1000;
        response.headers.emplace_back("Retry-After", std::to_string(seconds));
        return response;
    }
    return upstream_error_response(dispatch.error());
}

// The answer as an SSE error event, for when a keep-alive already committed status 200.
std::string error_event(upstream::HttpResponse& answer, const std::string& provider) {
    std::string body;
    try {
        body = answer.read_all(1024 * 1024);
    } catch (const core::Error&) {
    }
    if (scan_body(body).is_object && body.find("\"error\"") != std::string::npos) {
        std::string line;
        for (char c : body) {
            if (c != '\n' && c != '\r') {
                line += c;
            }
        }
        return "data: " + line + "\n\n";
    }
    return "data: " +
           error_json(fmt::format("provider {} answered HTTP {}", provider, answer.status),
                      "upstream_error", "upstream_status_" + std::to_string(answer.status)) +
           "\n\n";
}
} // namespace

Response Handler::answer(const std::shared_ptr<routing::Dispatch>& dispatch,
                         std::chrono::steady_clock::time_point start) {
    if (dispatch->advance(std::chrono::hours(24 * 365)) == routing::Dispatch::State::failed) {
        auto response = failure_response(*dispatch);
        add_routing_headers(response, *dispatch);
        return response;
    }
    // Aliasing: the response lives inside the dispatch, which the relay keeps alive.
    std::shared_ptr<upstream::HttpResponse> answer(dispatch, &dispatch->response());
    Response response;
    response.status = answer->status;
    for (const auto& [name, value] : answer->headers) {
        if (!dropped_response_header(name)) {
            response.headers.emplace_back(name, value);
        }
    }
    add_routing_headers(response, *dispatch);
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
            add_routing_headers(response, *dispatch);
        }
    }
    response.log.overhead_us =
        std::max(0LL, micros_since(start) - std::max(0LL, dispatch->upstream_us()));
    return response;
}

Response Handler::keepalive_stream(std::shared_ptr<routing::Dispatch> dispatch, LogFields log) {
    struct State {
        std::shared_ptr<routing::Dispatch> dispatch;
        std::shared_ptr<LogFields> log;
        BodyStream relay;
        bool done = false;
    };
    auto state = std::make_shared<State>();
    state->dispatch = std::move(dispatch);
    state->log = std::make_shared<LogFields>(std::move(log));
    Response response;
    response.content_type = "text/event-stream";
    response.headers.emplace_back("Cache-Control", "no-cache");
    response.final_log = state->log;
    response.stream = [state, interval = m_keepalive](std::string& chunk) {
        if (state->relay) {
            return state->relay(chunk);
        }
        if (state->done) {
            return false;
        }
        auto& dispatch = *state->dispatch;
        auto outcome = dispatch.advance(interval);
        if (outcome == routing::Dispatch::State::waiting) {
            chunk = ": keep-alive\n\n";
            return true;
        }
        state->log->provider = dispatch.provider();
        state->log->attempts = dispatch.attempts_text();
        state->log->upstream_us = dispatch.upstream_us();
        state->done = true;
        if (outcome == routing::Dispatch::State::failed) {
            chunk = "data: " +
                    error_json(dispatch.error().what(), "upstream_error",
                               dispatch.retry_after().count() > 0 ? "provider_unavailable"
                                                                  : "upstream_unreachable") +
                    "\n\n";
            return true;
        }
        auto& answer = dispatch.response();
        const std::string* type = answer.header("content-type");
        bool sse = type && type->find("text/event-stream") != std::string::npos;
        if (answer.status < 200 || answer.status >= 300) {
            chunk = error_event(answer, dispatch.provider());
            return true;
        }
        std::shared_ptr<upstream::HttpResponse> body(state->dispatch, &answer);
        state->relay = sse ? relay_sse(body) : relay_raw(body);
        return state->relay(chunk);
    };
    return response;
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
    LogFields log;
    log.model = summary.model;

    auto table = m_gateway.current();
    routing::Plan plan;
    try {
        plan = table->resolve(summary.model);
    } catch (const core::Error& e) {
        Response response = e.kind() == core::ErrorKind::not_found
                                ? error_response(404, std::string(e.what()) + "; " + e.hint(),
                                                 "invalid_request_error", "model_not_found")
                            : e.kind() == core::ErrorKind::invalid_input
                                ? error_response(400, std::string(e.what()) + "; " + e.hint(),
                                                 "invalid_request_error", "model_ambiguous")
                                : upstream_error_response(e);
        response.log = log;
        return response;
    }

    routing::Outgoing out;
    out.rest = std::string(rest);
    out.query = request.query;
    out.headers.reserve(request.headers.size() + 1);
    for (const auto& [name, value] : request.headers) {
        if (!dropped_request_header(name)) {
            out.headers.emplace_back(name, value);
        }
    }
    out.body = request.body;
    out.model = summary.model;
    out.has_model = summary.has_model;
    out.model_begin = summary.model_begin;
    out.model_end = summary.model_end;
    auto dispatch =
        std::make_shared<routing::Dispatch>(std::move(table), std::move(plan), std::move(out));

    if (summary.stream && m_keepalive.count() > 0 &&
        dispatch->advance(m_keepalive) == routing::Dispatch::State::waiting) {
        log.overhead_us = micros_since(start); // includes the wait: the status is not known
        return keepalive_stream(std::move(dispatch), std::move(log));
    }
    Response response = answer(dispatch, start);
    response.log.model = std::move(log.model);
    return response;
}

} // namespace aimo::proxy
