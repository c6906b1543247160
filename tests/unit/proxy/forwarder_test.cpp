// The forward pipeline, stage by stage, against in-memory upstreams: no HTTP server, no socket.
#include "governance/agents.hpp"
#include "governance/gate.hpp"
#include "memory_upstream.hpp"
#include "proxy/forwarder.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace aimo;
using nlohmann::json;
using test::Canned;

namespace {
struct Pipeline {
    test::TempDir dir;
    test::MemoryUpstreams upstreams;
    upstream::ClientPool pool{{}, {}, upstreams.connector()};
    metrics::Metrics metrics;
    governance::Database db{dir / "aimo.db"};
    governance::LocalGovernor governor{db, false, std::chrono::milliseconds(0)};
    governance::Ledger ledger{db};
    routing::Gateway gateway{[this] {
        routing::RoutingDefaults defaults{upstream::parse_url("http://router.test", "router"), {}};
        auto config = routing::parse_routing_config(
            "[[providers]]\nname = \"local\"\nbase_url = \"http://local.test/v1\"\n"
            "models = [\"llama3\"]\nprice_in = 1.0\nprice_out = 2.0\n"
            "[[providers]]\nname = \"other\"\nbase_url = \"http://other.test/v1\"\n"
            "models = [\"x\"]\n"
            "[aliases]\nfast = \"local/llama3\"\n",
            "config.toml", defaults, {});
        return std::make_shared<const routing::Table>(std::move(config), nullptr, pool,
                                                      std::chrono::seconds(60));
    }};
    governance::Gate gate{&governor, &ledger, &metrics, {}};
    proxy::Forwarder forwarder{gateway, gate, &metrics, std::chrono::milliseconds(0)};

    proxy::Response post(const std::string& body, const std::string& token = "") {
        proxy::Request request;
        request.method = "POST";
        request.path = "/v1/chat/completions";
        if (!token.empty()) {
            request.headers.add("Authorization", "Bearer " + token);
        }
        request.headers.add("Content-Type", "application/json");
        request.body = body;
        request.id = "req_test";
        return forwarder.forward(request, "/chat/completions");
    }
    std::string agent(const std::string& name, governance::AgentLimits limits = {}) {
        governance::Database cli(dir / "aimo.db");
        return governance::AgentStore(cli).create(name, limits, "2026-12-01T00:00:00Z");
    }
};

// Everything a streamed response's body yields.
std::string drain(proxy::Response& response) {
    std::string body;
    std::string chunk;
    while (response.stream(chunk)) {
        body += chunk;
    }
    return body;
}
} // namespace

TEST_CASE("a refused request stops before any upstream work", "[forwarder]") {
    Pipeline p;
    auto token = p.agent("bot", {{}, {}, {}, {"fast"}});
    CHECK(p.post(R"({"model":"fast"})").status == 401);
    CHECK(p.post(R"({"model":"local/llama3"})", token).status == 403);
    CHECK(p.post("not json", token).status == 400);
    CHECK(p.upstreams.connections() == 0);
    p.ledger.flush();
    CHECK(governance::read_records(p.db, 10).empty());
    CHECK(governance::denials_since(p.db, "").size() == 2);
}

TEST_CASE("an admitted request goes out as the provider knows it and is recorded", "[forwarder]") {
    Pipeline p;
    auto token = p.agent("bot");
    p.upstreams.script("local.test", {Canned::status(200, R"({"choices":[],"usage":)"
                                                          R"({"prompt_tokens":10,)"
                                                          R"("completion_tokens":5}})")});
    auto response = p.post(R"({"model":"fast","max_tokens":50,"messages":[]})", token);
    REQUIRE(response.status == 200);
    CHECK(response.headers.value("x-aimo-provider") == "local");
    CHECK(response.headers.value("x-aimo-attempts") == "local:200");
    auto sent = p.upstreams.sent("local.test");
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].rfind("POST /v1/chat/completions HTTP/1.1\r\n", 0) == 0);
    CHECK(sent[0].find(R"("model":"llama3")") != std::string::npos);
    CHECK(sent[0].find("Authorization") == std::string::npos); // the agent's token stays here
    p.ledger.flush();
    auto records = governance::read_records(p.db, 10);
    REQUIRE(records.size() == 1);
    CHECK(records[0].record.agent == "bot");
    CHECK(records[0].record.provider == "local");
    CHECK(records[0].record.cost_usd == Approx((10 * 1.0 + 5 * 2.0) / 1e6));
}

TEST_CASE("a metered stream asks for its usage and hides the answer to that from the client",
          "[forwarder]") {
    Pipeline p;
    auto token = p.agent("bot");
    p.upstreams.script("local.test",
                       {Canned::sse({"data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n",
                                     "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,"
                                     "\"completion_tokens\":1}}\n\n",
                                     "data: [DONE]\n\n"})});
    auto response = p.post(R"({"model":"fast","stream":true,"messages":[]})", token);
    REQUIRE(response.status == 200);
    REQUIRE(response.stream);
    CHECK(drain(response) ==
          "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: [DONE]\n\n");
    CHECK(p.upstreams.sent("local.test")[0].find(R"("stream_options":{"include_usage":true})") !=
          std::string::npos);
    p.ledger.flush();
    auto records = governance::read_records(p.db, 10);
    REQUIRE(records.size() == 1);
    CHECK(records[0].record.prompt_tokens == 3);
    CHECK(records[0].record.completion_tokens == 1);
}

TEST_CASE("a dispatch that fails is an OpenAI error naming the upstream", "[forwarder]") {
    Pipeline p;
    p.upstreams.script("local.test", {Canned::refuse(), Canned::refuse(), Canned::refuse()});
    auto response = p.post(R"({"model":"fast"})");
    CHECK(response.status == 502);
    auto error = json::parse(response.body)["error"];
    CHECK(error["code"] == "upstream_unreachable");
    CHECK(error["message"].get<std::string>().find("local.test") != std::string::npos);
}

TEST_CASE("an unknown model is refused before admission and counted", "[forwarder]") {
    Pipeline p;
    auto response = p.post(R"({"model":"nowhere/thing"})");
    CHECK(response.status == 404);
    CHECK(json::parse(response.body)["error"]["code"] == "model_not_found");
    CHECK(p.upstreams.connections() == 0);
    CHECK(p.metrics.render().find("code=\"model_not_found\"} 1") != std::string::npos);
}
