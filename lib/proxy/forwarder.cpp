#include "proxy/forwarder.hpp"

#include "governance/client.hpp"
#include "openai/request.hpp"
#include "proxy/cached.hpp"
#include "proxy/errors.hpp"
#include "proxy/prepare.hpp"
#include "proxy/respond.hpp"

#include <fmt/format.h>

namespace aimo::proxy {

namespace {
// A body aimo cannot forward: why, as the client's 400.
std::optional<Response> invalid_body(const Request& request, const openai::BodySummary& body) {
    if (!body.valid_json) {
        return error_response(400,
                              request.body.empty()
                                  ? "the request body is empty; send a JSON object (with "
                                    "Content-Length or chunked)"
                                  : "request body is not valid JSON: " + body.error,
                              "invalid_request_error", "invalid_json");
    }
    if (!body.is_object) {
        return error_response(400, "request body must be a JSON object", "invalid_request_error",
                              "invalid_json");
    }
    return std::nullopt;
}

// A model the table has no plan for, as the client's error and the code it is counted under.
std::pair<Response, std::string> unresolved(const core::Error& e) {
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

// The dearest prices among the plan's targets: any of them may end up answering.
governance::Prices dearest(const routing::Table& table, const routing::Plan& plan) {
    governance::Prices prices;
    for (const auto& target : plan.targets) {
        auto [in, out] = table.prices(target);
        prices = {std::max(prices.in, in), std::max(prices.out, out)};
    }
    return prices;
}

// A request refused before the cache was asked: it says so like every forwarded answer.
Response refused(Response response, const std::string& model) {
    response.log.model = model;
    response.headers.add("x-aimo-cache", "bypass");
    return response;
}

// The targets a request may go to, as the cache key names them.
std::string route_text(const routing::Plan& plan) {
    std::string text;
    for (const auto& target : plan.targets) {
        text += text.empty() ? "" : ",";
        text += target.name();
    }
    return text;
}
} // namespace

Response Forwarder::serve_hit(const Request& request, const openai::BodySummary& body,
                              const governance::Caller& caller, const routing::Table& table,
                              cache::Lookup hit, std::string_view client) {
    // A hit costs nothing against the budget, and counts as a request (with no tokens) for
    // the rate limits: admitted at price zero.
    governance::RequestFacts facts{request.id, body.model,     0, std::nullopt, false,
                                   client,     request.dialect};
    auto admitted = m_gate.admit(caller, facts, governance::Prices{}, "cache");
    if (auto* denial = std::get_if<governance::Denial>(&admitted)) {
        return refused(denial_response(*denial), body.model);
    }
    auto meter = std::get<std::shared_ptr<governance::Meter>>(std::move(admitted));
    double saved = 0;
    if (m_gate.meters() && hit.entry->usage.found) {
        auto [in, out] = table.prices({hit.entry->provider, hit.entry->model});
        saved = governance::cost_usd(hit.entry->usage, {in, out});
    }
    auto result = cache::result_name(hit.result);
    if (m_metrics != nullptr) {
        m_metrics->cache_request(result);
        m_metrics->cache_saved(saved);
    }
    Response response = cached_response(hit, body.stream, body.include_usage);
    response.log.model = body.model;
    if (meter) {
        response.headers.append(meter->take_response_headers());
        meter->set_cache(result, saved);
        meter->finish(200);
    }
    return response;
}

Response Forwarder::forward(const Request& request, std::string_view endpoint) {
    auto start = std::chrono::steady_clock::now();

    // Read the body: what is asked, in one pass.
    openai::BodySummary body = openai::scan_body(request.body);
    if (auto invalid = invalid_body(request, body)) {
        return refused(std::move(*invalid), "");
    }

    // Authenticate: who is asking, and whatever refuses the request at any price. Nothing has
    // gone upstream yet, and for a refusal nothing will.
    auto who = m_gate.authenticate(request.header("authorization"), body.model);
    if (auto* denial = std::get_if<governance::Denial>(&who)) {
        return refused(denial_response(*denial), body.model);
    }
    auto caller = std::get<governance::Caller>(std::move(who));

    // Resolve: where it may go (a bare model id among several providers needs the catalogue).
    auto table = m_gateway.current();
    routing::Plan plan;
    try {
        plan = table->resolve(body.model);
    } catch (const core::Error& e) {
        auto [response, code] = unresolved(e);
        m_gate.refuse(caller.agent, response.status, code);
        return refused(std::move(response), body.model);
    }

    // An Anthropic provider speaks Messages only, and Messages go as they are only to one.
    for (const auto& target : plan.targets) {
        const auto* provider = table->provider(target.provider);
        bool anthropic =
            provider != nullptr && provider->config().kind == routing::ProviderKind::anthropic;
        if (anthropic != (endpoint == "/messages")) {
            auto response = error_response(
                400,
                anthropic ? fmt::format("the route for '{}' mixes a chat provider with '{}', "
                                        "which speaks Anthropic Messages only",
                                        body.model, target.provider)
                          : fmt::format("the route for '{}' mixes an Anthropic provider with '{}', "
                                        "which does not speak Anthropic Messages",
                                        body.model, target.provider),
                "invalid_request_error", "unsupported_dialect");
            m_gate.refuse(caller.agent, response.status, "unsupported_dialect");
            return refused(std::move(response), body.model);
        }
    }

    // Cache lookup: an answer stored for the same request (or, semantically, a paraphrase of
    // its last message) is served without going upstream; a miss carries the fill its answer
    // goes into. Identical requests in flight wait here for the first one's answer.
    // Which client sent it matters only for the record (none without a ledger or governor).
    std::string_view client =
        m_gate.meters() ? governance::client_of(request.header("user-agent")) : "other";
    cache::Lookup looked;
    // A request that samples is only looked at when the config says so: telling that from the
    // scan saves parsing its body (which the key needs) on the path of every such request.
    bool samples = body.temperature != 0;
    if (m_cache != nullptr && endpoint == "/chat/completions" &&
        (!samples || m_cache->settings().sampled)) {
        auto key = cache::request_key(request.body, route_text(plan),
                                      m_cache->space_of(caller.agent), m_cache->settings().sampled);
        looked =
            m_cache->lookup(key, caller.agent, cache::directives(request.header("cache-control")));
        if (looked.entry) {
            return serve_hit(request, body, caller, *table, std::move(looked), client);
        }
    }
    std::string_view cache_result = cache::result_name(looked.result);
    if (m_metrics != nullptr && m_cache != nullptr) {
        m_metrics->cache_request(cache_result);
    }

    // Admit: reserve its worst case at the dearest price of the plan, or lower its
    // completion limit to what the budget pays for.
    governance::RequestFacts facts{
        request.id, body.model,     request.body.size(), std::nullopt, endpoint != "/embeddings",
        client,     request.dialect};
    if (body.max_tokens >= 0) {
        facts.max_tokens = body.max_tokens;
    }
    // Prices may need the catalogue: only asked for when the request is metered.
    auto prices = m_gate.meters() ? dearest(*table, plan) : governance::Prices{};
    // A state server's round trip is spent signing the first target's request.
    const routing::Provider* first = table->provider(plan.targets.front().provider);
    auto admitted = m_gate.admit(caller, facts, prices, plan.targets.front().provider, [&] {
        if (first != nullptr) {
            first->warm(endpoint, request.query);
        }
    });
    if (auto* denial = std::get_if<governance::Denial>(&admitted)) {
        return refused(denial_response(*denial), body.model);
    }
    auto meter = std::get<std::shared_ptr<governance::Meter>>(std::move(admitted));
    if (meter && looked.result == cache::Result::miss) {
        meter->set_cache(cache_result);
    }
    if (looked.fill && meter && meter->max_tokens()) {
        looked.fill->limited(); // cut at the budget's limit, not the request's: not stored
    }

    // Prepare: the body and headers as they go upstream.
    std::string model = body.model;
    auto prepared = prepare_upstream(request, endpoint, std::move(body), meter.get());

    // Schedule and dispatch: each attempt along the plan (retries, fallbacks, circuit
    // breakers) waits its turn at its provider's limits, fairly across agents.
    routing::Queueing queueing;
    queueing.scheduler = &m_scheduler;
    queueing.agent = caller.agent.value_or(std::string(governance::no_agent));
    queueing.weight = caller.weight;
    // What an account's tpm counts: the prompt (about 4 bytes a token) and the completion
    // limit; the answer's usage replaces the estimate.
    queueing.tokens =
        static_cast<int64_t>(request.body.size() / 4) + (facts.max_tokens ? *facts.max_tokens : 0);
    queueing.client_gone = request.client_gone;
    auto dispatch = std::make_shared<routing::Dispatch>(
        std::move(table), std::move(plan), std::move(prepared.outgoing), std::move(queueing));

    // Respond, then settle: the meter records the request when its last byte is out.
    Headers told = meter ? meter->take_response_headers() : Headers{};
    told.append(std::move(prepared.response_headers));
    RespondOptions options;
    options.meter = meter;
    options.metrics = m_metrics;
    options.stream = prepared.stream;
    options.strip_usage = prepared.strip_usage;
    options.keepalive = m_keepalive;
    options.start = start;
    options.model = std::move(model);
    options.fill = std::move(looked.fill);
    Response response = respond(std::move(dispatch), std::move(options));
    response.headers.append(std::move(told));
    response.headers.add("x-aimo-cache", std::string(cache_result));
    return response;
}

} // namespace aimo::proxy
