#include "proxy/handler.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/text.hpp"
#include "crypto/siwx.hpp"
#include "governance/usage.hpp"
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

// A governance refusal as the client sees it: OpenAI's error type for its status, and any
// Retry-After / x-ratelimit-* headers.
Response denial_response(const governance::Denial& denial) {
    const char* type = denial.status == 401   ? "authentication_error"
                       : denial.status == 403 ? "permission_error"
                       : denial.status == 429 ? "rate_limit_error"
                                              : "insufficient_quota";
    Response response = error_response(denial.status, denial.message, type, denial.code);
    response.headers = denial.headers;
    return response;
}

// Headers that describe one hop, the client's credentials, or framing aimo recomputes.
bool dropped_request_header(std::string_view name) {
    for (std::string_view dropped :
         {"authorization", "host", "content-length", "connection", "keep-alive",
          "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding",
          "upgrade", "accept-encoding", "sign-in-with-x", "x-api-key", "expect"}) {
        if (core::iequals(name, dropped)) {
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
        if (core::iequals(key, name)) {
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
    } else if (path == "/metrics" && m_governance.metrics != nullptr) {
        if (get) {
            if (m_governance.metrics_need_token) {
                auto who = caller_of(request, "");
                if (auto* denied = std::get_if<Response>(&who)) {
                    return std::move(*denied);
                }
            }
            Response response;
            response.content_type = "text/plain; version=0.0.4";
            response.body = m_governance.metrics->render();
            return response;
        }
    } else if (path == "/v1/models" || path == "/v1/models/") {
        if (get) {
            return list_models(request);
        }
    } else if (path.rfind("/v1/models/", 0) == 0) {
        if (get) {
            return get_model(request, std::string_view(path).substr(11));
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

std::variant<governance::Caller, Response> Handler::caller_of(const Request& request,
                                                              std::string_view model) {
    if (m_governance.governor == nullptr) {
        return governance::Caller{};
    }
    auto who = m_governance.governor->authenticate(request.header("authorization"));
    if (auto* denial = std::get_if<governance::Denial>(&who)) {
        return refused(denial->agent, model, denial_response(*denial), denial->code);
    }
    return std::get<governance::Caller>(std::move(who));
}

Response Handler::refused(const std::optional<std::string>& agent, std::string_view model,
                          Response response, std::string_view code) {
    std::string who = agent.value_or("-");
    if (m_governance.metrics != nullptr) {
        m_governance.metrics->denial(who, response.status, code);
    }
    if (m_governance.ledger != nullptr) {
        m_governance.ledger->count_denial(now_text(), who, response.status, code);
    }
    response.log.model = std::string(model);
    return response;
}

std::string Handler::now_text() const {
    return crypto::format_timestamp(m_governance.clock ? m_governance.clock()
                                                       : std::chrono::system_clock::now());
}

Response Handler::list_models(const Request& request) {
    auto who = caller_of(request, "");
    if (auto* denied = std::get_if<Response>(&who)) {
        return std::move(*denied);
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
            if (m_governance.governor->allows(caller, model.id)) {
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
    auto who = caller_of(request, "");
    if (auto* denied = std::get_if<Response>(&who)) {
        return std::move(*denied);
    }
    const auto& caller = std::get<governance::Caller>(who);
    auto missing = [&] {
        return error_response(
            404, fmt::format("model '{}' is not in the catalogue; see GET /v1/models", id),
            "invalid_request_error", "model_not_found");
    };
    if (caller.agent && !m_governance.governor->allows(caller, id)) {
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

namespace {
// Records the request when `stream` ends (a stream cut short is recorded by the destructor).
BodyStream finish_at_end(BodyStream stream, std::shared_ptr<Metering> meter, int status) {
    if (!meter) {
        return stream;
    }
    return [stream = std::move(stream), meter = std::move(meter), status](std::string& chunk) {
        bool more = stream(chunk);
        if (!more) {
            meter->finish(status);
        }
        return more;
    };
}

// Relays an SSE answer, reporting usage to `meter` and dropping the usage-only event aimo
// asked for on the client's behalf; the request is recorded when the stream ends.
BodyStream metered_sse(std::shared_ptr<upstream::HttpResponse> answer,
                       std::shared_ptr<Metering> meter, bool strip_usage, int status) {
    if (!meter) {
        return relay_sse(std::move(answer));
    }
    auto inner = relay_sse(std::move(answer), [meter, strip_usage](std::string_view event) {
        auto found = governance::usage_from_event(event);
        meter->observe(found.usage);
        return !(strip_usage && found.usage_only);
    });
    return finish_at_end(std::move(inner), std::move(meter), status);
}

// Tells `meter` who answered (or was tried last), the failed attempts, and, when an answer
// came, that target's prices.
void settle_routed(const std::shared_ptr<Metering>& meter, const routing::Dispatch& dispatch,
                   const routing::Table& table) {
    if (!meter) {
        return;
    }
    meter->set_provider(dispatch.provider());
    meter->count_attempts(dispatch.attempts());
    if (const auto* target = dispatch.answered_target()) {
        meter->set_prices(table.prices(*target));
    }
}

} // namespace

Response Handler::answer(const std::shared_ptr<routing::Dispatch>& dispatch,
                         std::chrono::steady_clock::time_point start,
                         const std::shared_ptr<Metering>& meter, bool strip_usage) {
    if (dispatch->advance(std::chrono::hours(24 * 365)) == routing::Dispatch::State::failed) {
        auto response = failure_response(*dispatch);
        add_routing_headers(response, *dispatch);
        settle_routed(meter, *dispatch, dispatch->table());
        if (meter) {
            meter->finish(response.status);
        }
        return response;
    }
    settle_routed(meter, *dispatch, dispatch->table());
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
        if (sse) {
            response.stream = metered_sse(answer, meter, strip_usage, response.status);
        } else {
            response.stream = finish_at_end(relay_raw(answer), meter, response.status);
        }
    } else {
        try {
            response.body = answer->read_all(max_upstream_body);
        } catch (const core::Error& e) {
            response = upstream_error_response(e);
            add_routing_headers(response, *dispatch);
        }
        if (meter) {
            meter->observe(governance::usage_from_json(response.body));
            meter->finish(response.status);
        }
    }
    response.log.overhead_us =
        std::max(0LL, micros_since(start) - std::max(0LL, dispatch->upstream_us()));
    return response;
}

Response Handler::keepalive_stream(std::shared_ptr<routing::Dispatch> dispatch, LogFields log,
                                   std::shared_ptr<Metering> meter, bool strip_usage) {
    struct State {
        std::shared_ptr<Metering> meter;
        bool strip_usage = false;
        std::shared_ptr<routing::Dispatch> dispatch;
        std::shared_ptr<LogFields> log;
        BodyStream relay;
        bool done = false;
    };
    auto state = std::make_shared<State>();
    state->dispatch = std::move(dispatch);
    state->log = std::make_shared<LogFields>(std::move(log));
    state->meter = std::move(meter);
    state->strip_usage = strip_usage;
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
        settle_routed(state->meter, dispatch, dispatch.table());
        if (outcome == routing::Dispatch::State::failed) {
            if (state->meter) {
                state->meter->finish(200);
            }
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
            if (state->meter) {
                state->meter->finish(200);
            }
            return true;
        }
        std::shared_ptr<upstream::HttpResponse> body(state->dispatch, &answer);
        state->relay = sse ? metered_sse(body, state->meter, state->strip_usage, 200)
                           : finish_at_end(relay_raw(body), state->meter, 200);
        return state->relay(chunk);
    };
    return response;
}

namespace {
// Where a request's own completion limit goes when aimo must add one.
std::string_view limit_field(std::string_view rest) {
    return rest == "/responses" ? "max_output_tokens" : "max_tokens";
}

// A routing failure as the client sees it.
std::pair<Response, std::string> resolve_error(const core::Error& e) {
    switch (e.kind()) {
    case core::ErrorKind::not_found:
        return {error_response(404, std::string(e.what()) + "; " + e.hint(),
                               "invalid_request_error", "model_not_found"),
                "model_not_found"};
    case core::ErrorKind::invalid_input:
        return {error_response(400, std::string(e.what()) + "; " + e.hint(),
                               "invalid_request_error", "model_ambiguous"),
                "model_ambiguous"};
    default:
        return {upstream_error_response(e), "catalogue_unavailable"};
    }
}
} // namespace

std::variant<std::shared_ptr<Metering>, Response>
Handler::meter_request(const Request& request, std::string_view rest, const BodySummary& summary,
                       const governance::Caller& caller, const routing::Table& table,
                       const routing::Plan& plan) {
    if (m_governance.ledger == nullptr && m_governance.governor == nullptr) {
        return std::shared_ptr<Metering>();
    }
    governance::UsageRecord record;
    record.time = now_text();
    record.request_id = request.id;
    record.model = summary.model;
    record.provider = plan.targets.front().provider;
    // The dearest target of the plan sets the worst case: any of them may answer.
    std::pair<double, double> prices{0, 0};
    for (const auto& target : plan.targets) {
        auto p = table.prices(target);
        prices = {std::max(prices.first, p.first), std::max(prices.second, p.second)};
    }
    governance::Admission admission;
    if (m_governance.governor != nullptr) {
        governance::Estimate estimate;
        estimate.prompt_tokens = static_cast<int64_t>(request.body.size());
        if (summary.max_tokens >= 0) {
            estimate.completion_tokens = summary.max_tokens;
        }
        estimate.completes = rest != "/embeddings";
        estimate.price_in = prices.first;
        estimate.price_out = prices.second;
        auto decision = m_governance.governor->admit(caller, summary.model, estimate,
                                                     std::chrono::steady_clock::now());
        if (auto* denial = std::get_if<governance::Denial>(&decision)) {
            return refused(denial->agent, summary.model, denial_response(*denial), denial->code);
        }
        admission = std::get<governance::Admission>(std::move(decision));
    }
    record.agent = admission.agent.value_or("-");
    return std::make_shared<Metering>(m_governance, std::move(admission), std::move(record),
                                      prices);
}

Response Handler::forward(const Request& request, std::string_view rest) {
    auto start = std::chrono::steady_clock::now();
    BodySummary summary = scan_body(request.body);
    if (!summary.valid_json) {
        return error_response(400,
                              request.body.empty()
                                  ? "the request body is empty; send a JSON object (with "
                                    "Content-Length or chunked)"
                                  : "request body is not valid JSON: " + summary.error,
                              "invalid_request_error", "invalid_json");
    }
    if (!summary.is_object) {
        return error_response(400, "request body must be a JSON object", "invalid_request_error",
                              "invalid_json");
    }
    // Who is asking comes first, and everything that can refuse without a price: a refused
    // request causes no upstream work at all (no catalogue, no prices, no attempt).
    auto who = caller_of(request, summary.model);
    if (auto* denied = std::get_if<Response>(&who)) {
        return std::move(*denied);
    }
    auto caller = std::get<governance::Caller>(std::move(who));
    if (m_governance.governor != nullptr) {
        if (auto denial = m_governance.governor->precheck(caller, summary.model,
                                                          std::chrono::steady_clock::now())) {
            return refused(denial->agent, summary.model, denial_response(*denial), denial->code);
        }
    }
    LogFields log;
    log.model = summary.model;

    auto table = m_gateway.current();
    routing::Plan plan;
    try {
        plan = table->resolve(summary.model);
    } catch (const core::Error& e) {
        auto [response, code] = resolve_error(e);
        return refused(caller.agent, summary.model, std::move(response), code);
    }
    auto metered = meter_request(request, rest, summary, caller, *table, plan);
    if (auto* denied = std::get_if<Response>(&metered)) {
        return std::move(*denied);
    }
    auto meter = std::get<std::shared_ptr<Metering>>(std::move(metered));

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
    Headers admission_headers;
    if (meter) {
        admission_headers = meter->take_response_headers();
        if (auto limit = meter->max_tokens()) {
            // The remaining budget pays for fewer completion tokens than the request allows:
            // it goes out with that limit, and the client is told.
            out.owned_body = std::make_shared<const std::string>(
                with_max_tokens(request.body, summary, *limit, limit_field(rest)));
            out.body = *out.owned_body;
            summary = scan_body(out.body);
            admission_headers.emplace_back("x-aimo-budget-max-tokens", std::to_string(*limit));
        }
    }
    out.model = summary.model;
    out.has_model = summary.has_model;
    out.model_begin = summary.model_begin;
    out.model_end = summary.model_end;
    // To count a stream's tokens, ask for its usage; the client, who did not, never sees it.
    bool strip_usage = meter && summary.stream && !summary.has_stream_options &&
                       (rest == "/chat/completions" || rest == "/completions");
    if (strip_usage) {
        size_t shift = 0;
        out.owned_body =
            std::make_shared<const std::string>(governance::with_include_usage(out.body, shift));
        out.body = *out.owned_body;
        out.model_begin += shift;
        out.model_end += shift;
    }
    auto dispatch =
        std::make_shared<routing::Dispatch>(std::move(table), std::move(plan), std::move(out));

    Response response;
    if (summary.stream && m_keepalive.count() > 0 &&
        dispatch->advance(m_keepalive) == routing::Dispatch::State::waiting) {
        log.overhead_us = micros_since(start); // includes the wait: the status is not known
        response = keepalive_stream(std::move(dispatch), std::move(log), meter, strip_usage);
    } else {
        response = answer(dispatch, start, meter, strip_usage);
        response.log.model = std::move(log.model);
    }
    response.headers.insert(response.headers.end(),
                            std::make_move_iterator(admission_headers.begin()),
                            std::make_move_iterator(admission_headers.end()));
    return response;
}

} // namespace aimo::proxy
