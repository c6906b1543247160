// What a request must pass before anything goes upstream, and budgets that neither a client
// nor an upstream can get around.
#include "fake_router.hpp"
#include "fake_upstream.hpp"
#include "governance/ledger.hpp"
#include "http_helpers.hpp"
#include "proxy_fixture.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace aimo;
using namespace aimo::test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
constexpr const char* model = "deepseek/deepseek-v3.2"; // 0.28 / 0.42 USD per million tokens

httplib::Headers bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
}

std::string agent(const std::filesystem::path& db, const std::string& name,
                  governance::AgentLimits limits = {}) {
    governance::Database cli(db);
    return governance::AgentStore(cli).create(name, limits, "2026-12-01T00:00:00Z");
}

std::string code_of(const Reply& reply) {
    return json::parse(reply.body)["error"]["code"];
}
} // namespace

TEST_CASE("a refused request causes no upstream work at all", "[governance][admission]") {
    TempDir dir;
    FakeRouter router;
    ProxyFixtureOptions options;
    options.database = dir / "aimo.db";
    options.models_ttl = std::chrono::seconds(0); // a price look-up would ask every time
    options.max_body_bytes = 4096;
    ProxyFixture proxy(router.url(), options);
    auto token = agent(dir / "aimo.db", "bot", {0.0, 1, {}, {model}}); // $0 budget, 1 rpm
    auto limited = agent(dir / "aimo.db", "busy", {{}, 1, {}, {}});
    std::string body = R"({"model":")" + std::string(model) + R"(","messages":[]})";

    struct Refusal {
        const char* what;
        std::function<Reply()> send;
        int status;
    };
    std::vector<Refusal> refusals = {
        {"no token", [&] { return http_post(proxy.port(), "/v1/chat/completions", body); }, 401},
        {"unknown token",
         [&] { return http_post(proxy.port(), "/v1/chat/completions", body, bearer("aimo_x")); },
         401},
        {"model not allowed",
         [&] {
             return http_post(proxy.port(), "/v1/chat/completions", R"({"model":"plain-model"})",
                              bearer(token));
         },
         403},
        {"budget spent",
         [&] { return http_post(proxy.port(), "/v1/chat/completions", body, bearer(token)); }, 402},
        {"bad JSON",
         [&] { return http_post(proxy.port(), "/v1/chat/completions", "{", bearer(token)); }, 400},
        {"too large",
         [&] {
             return http_post(proxy.port(), "/v1/chat/completions", std::string(5000, ' '),
                              bearer(token));
         },
         413},
        {"model list without a token", [&] { return http_get(proxy.port(), "/v1/models"); }, 401},
    };
    for (const auto& refusal : refusals) {
        INFO(refusal.what);
        CHECK(refusal.send().status == refusal.status);
        CHECK(router.requests().empty()); // not a catalogue, not a price, not an attempt
        CHECK(router.connections() == 0);
    }
    // One request of `busy` goes out; its second in the minute is refused with nothing sent.
    CHECK(http_post(proxy.port(), "/v1/chat/completions", body, bearer(limited)).status == 200);
    size_t seen = router.requests().size();
    size_t connections = router.connections();
    CHECK(http_post(proxy.port(), "/v1/chat/completions", body, bearer(limited)).status == 429);
    CHECK(router.requests().size() == seen);
    CHECK(router.connections() == connections);
}

TEST_CASE("the model list asks for a token and shows only the agent's models",
          "[governance][admission]") {
    TempDir dir;
    FakeRouter router;
    ProxyFixtureOptions options;
    options.database = dir / "aimo.db";
    ProxyFixture proxy(router.url(), options);
    CHECK(http_get(proxy.port(), "/v1/models").status == 200); // no agents: open on loopback

    auto token = agent(dir / "aimo.db", "bot", {{}, {}, {}, {model}});
    auto everything = agent(dir / "aimo.db", "all");
    CHECK(http_get(proxy.port(), "/v1/models").status == 401);
    CHECK(http_get(proxy.port(), std::string("/v1/models/") + model).status == 401);
    auto mine = http_get(proxy.port(), "/v1/models", bearer(token));
    REQUIRE(mine.status == 200);
    auto list = json::parse(mine.body)["data"];
    REQUIRE(list.size() == 1);
    CHECK(list[0]["id"] == model);
    CHECK(http_get(proxy.port(), "/v1/models/plain-model", bearer(token)).status == 404);
    CHECK(http_get(proxy.port(), std::string("/v1/models/") + model, bearer(token)).status == 200);
    CHECK(
        json::parse(http_get(proxy.port(), "/v1/models", bearer(everything)).body)["data"].size() ==
        3);
}

TEST_CASE("a small budget caps the completion it can pay for instead of refusing",
          "[governance][admission]") {
    TempDir dir;
    FakeRouter router;
    ProxyFixtureOptions options;
    options.database = dir / "aimo.db";
    ProxyFixture proxy(router.url(), options);
    // $0.001 at 0.42 USD per million completion tokens: about 2,300 tokens, less than the 4,096
    // reserved for a request that sets no limit.
    auto token = agent(dir / "aimo.db", "small", {0.001, {}, {}, {}});
    std::string body = R"({"model":")" + std::string(model) + R"(","messages":[]})";
    int answered = 0;
    for (int i = 0; i < 20; ++i) {
        auto reply = http_post(proxy.port(), "/v1/chat/completions", body, bearer(token));
        INFO(reply.body);
        REQUIRE(reply.status == 200);
        ++answered;
        auto limit = std::stoll(reply.header("x-aimo-budget-max-tokens"));
        CHECK(limit > 2000);
        CHECK(limit < 4096);
        auto sent = json::parse(router.requests().back().body);
        CHECK(sent["max_tokens"] == limit);
        CHECK(sent["model"] == model);
    }
    CHECK(answered == 20);

    SECTION("the largest of the limits counts, and every one is lowered") {
        std::string sneaky = R"({"max_completion_tokens":100000000,"model":")" +
                             std::string(model) + R"(","max_tokens":1,"messages":[]})";
        auto reply = http_post(proxy.port(), "/v1/chat/completions", sneaky, bearer(token));
        REQUIRE(reply.status == 200);
        auto limit = std::stoll(reply.header("x-aimo-budget-max-tokens"));
        auto sent = json::parse(router.requests().back().body);
        CHECK(sent["max_tokens"] == 1);
        CHECK(sent["max_completion_tokens"] == limit);
    }
    SECTION("a request within what is left goes out as it was") {
        std::string modest =
            R"({"model":")" + std::string(model) + R"(","max_tokens":100,"messages":[]})";
        auto reply = http_post(proxy.port(), "/v1/chat/completions", modest, bearer(token));
        REQUIRE(reply.status == 200);
        CHECK(reply.header("x-aimo-budget-max-tokens").empty());
        CHECK(router.requests().back().body == modest);
    }
}

TEST_CASE("an upstream that ignores max_tokens is charged, flagged, and the agent stopped",
          "[governance][admission]") {
    TempDir dir;
    FakeRouter router;
    FakeUpstream local("local", {"llama3"});
    ProxyFixtureOptions options;
    options.database = dir / "aimo.db";
    options.config = "[[providers]]\nname = \"local\"\nbase_url = \"" + local.base_url() +
                     "\"\nmodels = [\"llama3\"]\nprice_in = 1.0\nprice_out = 1000.0\n";
    ProxyFixture proxy(router.url(), options);
    // $0.002 pays for the prompt (~55 bytes at $1 per million) and the one completion token
    // asked for ($0.001).
    auto token = agent(dir / "aimo.db", "bot", {0.002, {}, {}, {}});
    Scripted greedy; // asked for 1 token, answers 8 at $0.001 each
    greedy.body = R"({"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":8}})";
    local.set_default(greedy);
    std::string body = R"({"model":"local/llama3","max_tokens":1,"messages":[]})";
    CHECK(http_post(proxy.port(), "/v1/chat/completions", body, bearer(token)).status == 200);
    proxy.flush_ledger();
    auto records = governance::read_records(proxy.db(), 10);
    REQUIRE(records.size() == 1);
    CHECK(records[0].record.cost_usd == Approx(10 * 1e-6 + 8 * 1e-3));
    CHECK(records[0].record.over_reservation);
    CHECK(governance::verify_chain(proxy.db()).ok);
    CHECK_THAT(http_get(proxy.port(), "/metrics").body,
               Contains("aimo_over_reservation_total{agent=\"bot\"} 1"));

    // The overshoot does not compound: spent >= budget refuses, with nothing sent upstream.
    for (int i = 0; i < 300; ++i) {
        auto reply = http_post(proxy.port(), "/v1/chat/completions", body, bearer(token));
        REQUIRE(reply.status == 402);
        CHECK(code_of(reply) == "budget_exceeded");
    }
    CHECK(local.count() == 1);
    // 300 refusals are one counted row, not 300 records; /metrics stays exact.
    proxy.flush_ledger();
    CHECK(governance::read_records(proxy.db(), 1000).size() == 1);
    int64_t counted = 0;
    auto denials = governance::denials_since(proxy.db(), "");
    for (const auto& denial : denials) {
        counted += denial.count;
    }
    CHECK(counted == 300);
    CHECK(denials.size() <= 2); // the minute may turn once during the loop
    CHECK_THAT(http_get(proxy.port(), "/metrics").body,
               Contains("aimo_denied_requests_total{agent=\"bot\",status=\"402\","
                        "code=\"budget_exceeded\"} 300"));
}

TEST_CASE("a router quoting prices per million tokens is priced right, not refused",
          "[governance][admission]") {
    TempDir dir;
    FakeRouter router;
    router.models_body = R"({"data":[{"id":"m","pricing":{"prompt":0.27,"completion":1.1}}]})";
    ProxyFixtureOptions options;
    options.database = dir / "aimo.db";
    ProxyFixture proxy(router.url(), options);
    // $0.01 pays for thousands of tokens at $1.1 per million; read per token, the same price
    // would be $1.1 million per million tokens and refuse everything.
    auto token = agent(dir / "aimo.db", "bot", {0.01, {}, {}, {}});
    std::string body = R"({"model":"m","max_tokens":100,"messages":[]})";
    auto reply = http_post(proxy.port(), "/v1/chat/completions", body, bearer(token));
    REQUIRE(reply.status == 200);
    CHECK(reply.header("x-aimo-budget-max-tokens").empty());
    proxy.flush_ledger();
    auto records = governance::read_records(proxy.db(), 10);
    REQUIRE(records.size() == 1);
    // The fake router reports 3 prompt and 2 completion tokens.
    CHECK(records[0].record.cost_usd == Approx((3 * 0.27 + 2 * 1.1) / 1e6));
}
