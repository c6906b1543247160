#include "proxy/embedder.hpp"

#include "openai/request.hpp"
#include "openai/usage.hpp"
#include "routing/dispatch.hpp"

#include <nlohmann/json.hpp>

namespace aimo::proxy {

std::optional<std::vector<float>> Embedder::embed(const std::string& text,
                                                  const std::optional<std::string>& agent) {
    auto table = m_gateway.current();
    routing::Plan plan;
    try {
        plan = table->resolve(m_model);
    } catch (const core::Error&) {
        return std::nullopt;
    }
    auto body = std::make_shared<const std::string>(
        nlohmann::json{{"model", m_model}, {"input", text}}.dump(
            -1, ' ', false, nlohmann::json::error_handler_t::replace));
    auto summary = openai::scan_body(*body);
    routing::Outgoing out;
    out.rest = "/embeddings";
    out.headers.add("Content-Type", "application/json");
    out.owned_body = body;
    out.body = *body;
    out.model = summary.model;
    out.has_model = summary.has_model;
    out.model_begin = summary.model_begin;
    out.model_end = summary.model_end;
    governance::Caller caller{agent};
    governance::RequestFacts facts;
    facts.model = m_model;
    facts.body_bytes = body->size();
    facts.completes = false;
    facts.client = "aimo";
    std::shared_ptr<governance::Meter> meter;
    if (m_gate.meters()) {
        auto [in, out_price] = table->prices(plan.targets.front());
        // Recorded, not admitted: the request it serves was admitted already.
        meter = m_gate.record(caller, facts, {in, out_price}, plan.targets.front().provider);
        meter->set_cache("embedding");
    }
    routing::Dispatch dispatch(table, std::move(plan), std::move(out));
    auto state = routing::Dispatch::State::waiting;
    while (state == routing::Dispatch::State::waiting) {
        state = dispatch.advance(std::chrono::hours(24));
    }
    if (state == routing::Dispatch::State::failed) {
        if (meter) {
            meter->finish(502);
        }
        return std::nullopt;
    }
    auto& answer = dispatch.response();
    std::string reply;
    try {
        reply = answer.read_all(16 * 1024 * 1024);
    } catch (const core::Error&) {
        if (meter) {
            meter->finish(502);
        }
        return std::nullopt;
    }
    if (meter) {
        if (const auto* target = dispatch.answered_target()) {
            auto [in, out_price] = table->prices(*target);
            meter->set_provider(dispatch.provider(), governance::Prices{in, out_price});
        }
        meter->observe(openai::usage_from_json(reply));
        meter->finish(answer.status);
    }
    if (answer.status != 200) {
        return std::nullopt;
    }
    auto doc = nlohmann::json::parse(reply, nullptr, false);
    if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_array() ||
        doc["data"].empty() || !doc["data"][0].is_object()) {
        return std::nullopt;
    }
    const auto& values = doc["data"][0].value("embedding", nlohmann::json());
    if (!values.is_array() || values.empty()) {
        return std::nullopt;
    }
    std::vector<float> vector;
    vector.reserve(values.size());
    for (const auto& value : values) {
        if (!value.is_number()) {
            return std::nullopt;
        }
        vector.push_back(value.get<float>());
    }
    return vector;
}

} // namespace aimo::proxy
