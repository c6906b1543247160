// The dashboard's page and the JSON behind it, through the real proxy.
#include "crypto/encoding.hpp"
#include "fake_router.hpp"
#include "governance/owner_log.hpp"
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
constexpr const char* model = "deepseek/deepseek-v3.2";
constexpr const char* owner_secret = "aimo_owner_test-secret";

// A prompt no dashboard answer may ever contain.
std::string chat() {
    return R"({"model":")" + std::string(model) +
           R"(","max_tokens":10,"messages":[{"role":"user","content":"private-prompt-words"}]})";
}

httplib::Headers bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
}

httplib::Headers owner(const std::string& secret = owner_secret) {
    return {{"X-Aimo-Owner", secret}};
}

struct Dashboard {
    TempDir dir;
    FakeRouter router;
    ProxyFixture proxy;
    explicit Dashboard(std::function<void(ProxyFixtureOptions&)> adjust = {})
        : proxy(router.url(), [&] {
              ProxyFixtureOptions options;
              options.database = dir / "aimo.db";
              if (adjust) {
                  adjust(options);
              }
              return options;
          }()) {}
    std::string agent(const std::string& name, governance::AgentLimits limits = {}) {
        governance::Database cli(dir / "aimo.db");
        return governance::AgentStore(cli).create(name, limits, "2026-12-01T00:00:00Z");
    }
    json get(const std::string& path, const httplib::Headers& headers = {}) {
        auto reply = http_get(proxy.port(), path, headers);
        REQUIRE(reply.status == 200);
        CHECK_THAT(reply.body, !Contains("private-prompt-words") && !Contains("Hello!"));
        return json::parse(reply.body);
    }
};

std::string code_of(const Reply& reply) {
    return json::parse(reply.body)["error"]["code"];
}

void with_owner(ProxyFixtureOptions& options) {
    options.owner_secret_hash = crypto::sha256_hex(owner_secret);
}
} // namespace

TEST_CASE("the dashboard's JSON shows each agent's spending against its budget, and the last "
          "requests without their text",
          "[ui]") {
    Dashboard d;
    CHECK(d.get("/api/aimo/agents").empty());
    auto token = d.agent("bot", {1.0, 10, {}, {}});
    d.agent("idle");
    for (int i = 0; i < 2; ++i) {
        REQUIRE(http_post(d.proxy.port(), "/v1/chat/completions", chat(), bearer(token)).status ==
                200);
    }
    d.proxy.flush_ledger();

    auto agents = d.get("/api/aimo/agents");
    REQUIRE(agents.size() == 2);
    CHECK(agents[0]["name"] == "bot");
    CHECK(agents[0]["state"] == "active");
    CHECK(agents[0]["budget_usd"] == 1.0);
    CHECK(agents[0]["spent_usd"].get<double>() > 0);
    CHECK(agents[0]["rpm"] == 10);
    CHECK(agents[0]["tpm"].is_null());
    CHECK(agents[0]["last_minute"]["requests"] == 2);
    CHECK(agents[0]["last_minute"]["tokens"].get<int64_t>() > 0);
    CHECK(agents[1]["name"] == "idle");
    CHECK(agents[1]["budget_usd"].is_null());
    CHECK(agents[1]["last_minute"]["requests"] == 0);
    CHECK_THAT(agents.dump(), !Contains(token) && !Contains("token_hash"));

    auto requests = d.get("/api/aimo/requests");
    REQUIRE(requests.size() == 2);
    for (const auto& r : requests) {
        CHECK(r["agent"] == "bot");
        CHECK(r["model"] == model);
        CHECK(r["status"] == 200);
        CHECK(r["prompt_tokens"].get<int64_t>() + r["completion_tokens"].get<int64_t>() > 0);
        CHECK(r["cost_usd"].get<double>() > 0);
        CHECK(r["latency_ms"].get<double>() > 0);
    }
    CHECK(requests[0]["time"] >= requests[1]["time"]);
}

TEST_CASE("the dashboard's series cover the last hour by minute and 30 days by day, by agent or "
          "model",
          "[ui]") {
    Dashboard d;
    auto token = d.agent("bot");
    for (int i = 0; i < 3; ++i) {
        REQUIRE(http_post(d.proxy.port(), "/v1/chat/completions", chat(), bearer(token)).status ==
                200);
    }
    d.proxy.flush_ledger();
    auto total = [](const json& line, const char* key) {
        double sum = 0;
        for (const auto& value : line[key]) {
            sum += value.get<double>();
        }
        return sum;
    };

    auto hour = d.get("/api/aimo/series?range=hour&by=agent");
    CHECK(hour["range"] == "hour");
    REQUIRE(hour["buckets"].size() == 60);
    CHECK(hour["buckets"][59].get<std::string>().size() == 16); // "2026-12-03T10:14"
    REQUIRE(hour["series"].size() == 1);
    CHECK(hour["series"][0]["key"] == "bot");
    CHECK(hour["series"][0]["requests"].size() == 60);
    CHECK(total(hour["series"][0], "requests") == 3);
    CHECK(total(hour["series"][0], "cost_usd") > 0);

    auto month = d.get("/api/aimo/series?range=month&by=model");
    REQUIRE(month["buckets"].size() == 30);
    CHECK(month["buckets"][29].get<std::string>().size() == 10); // "2026-12-03"
    REQUIRE(month["series"].size() == 1);
    CHECK(month["series"][0]["key"] == model);
    CHECK(month["series"][0]["requests"][29] == 3);
    CHECK(month["cache"]["lookups"] == 0);

    auto bad = http_get(d.proxy.port(), "/api/aimo/series?range=week");
    CHECK(bad.status == 400);
    CHECK(code_of(bad) == "invalid_parameter");
    CHECK_THAT(bad.body, Contains("'week'") && Contains("range=hour"));
    CHECK(http_get(d.proxy.port(), "/api/aimo/series?by=provider").status == 400);
    auto wrong = http_post(d.proxy.port(), "/api/aimo/series", "{}");
    CHECK(wrong.status == 405);
    CHECK(wrong.header("Allow") == "GET");
}

TEST_CASE("the status shows each provider's circuit and last hour, the wallet, and the router's "
          "balance asked at most once in 30 s",
          "[ui]") {
    Dashboard d([](ProxyFixtureOptions& options) { options.dashboard_balance = true; });
    REQUIRE(http_post(d.proxy.port(), "/v1/chat/completions", chat()).status == 200);
    d.proxy.flush_ledger();

    auto status = d.get("/api/aimo/status");
    REQUIRE(status["providers"].size() == 1);
    const auto& provider = status["providers"][0];
    CHECK(provider["circuit"] == "closed");
    CHECK(provider["last_hour"]["requests"] == 1);
    CHECK(provider["last_hour"]["errors"] == 0);
    CHECK(provider["last_hour"]["p95_ms"].get<double>() >= provider["last_hour"]["p50_ms"]);
    CHECK(status["wallet"].is_string());
    CHECK_FALSE(status["wallet"].get<std::string>().empty());
    CHECK(status["owner_actions"] == false);

    auto balance = d.get("/api/aimo/balance");
    CHECK_THAT(balance["balance"].get<std::string>(), Contains("12.50"));
    CHECK(balance["error"].is_null());
    d.router.balance_status = 401; // later answers would fail, but none is asked for yet
    CHECK(d.get("/api/aimo/balance") == balance);
    CHECK(d.router.count("/api/v1/session/balance") == 1);
}

TEST_CASE("without a router configured the balance says so", "[ui]") {
    Dashboard d;
    auto balance = d.get("/api/aimo/balance");
    CHECK(balance["balance"].is_null());
    CHECK_THAT(balance["error"].get<std::string>(), Contains("no AiMo router"));
}

TEST_CASE("/ui is one self-contained page that asks no other host", "[ui]") {
    Dashboard d;
    auto page = http_get(d.proxy.port(), "/ui");
    REQUIRE(page.status == 200);
    CHECK_THAT(page.header("Content-Type"), Contains("text/html"));
    CHECK_THAT(page.header("Content-Security-Policy"),
               Contains("default-src 'none'") && Contains("connect-src 'self'"));
    CHECK_THAT(page.body, Contains("<title>aimo dashboard</title>"));
    CHECK_THAT(page.body, !Contains("http://") && !Contains("https://") && !Contains("src=\"//"));
    CHECK(http_get(d.proxy.port(), "/ui/").status == 200);
    // What a browser asks for besides: no icon, and no 404 in its console.
    auto icon = http_get(d.proxy.port(), "/favicon.ico");
    CHECK(icon.status == 204);
    CHECK(icon.body.empty());
}

TEST_CASE("beyond loopback the dashboard and its JSON need an agent's token", "[ui]") {
    Dashboard d([](ProxyFixtureOptions& options) {
        options.metrics_need_token = true;
        options.require_auth = true;
    });
    auto token = d.agent("bot");
    for (const char* path : {"/ui", "/api/aimo/agents", "/api/aimo/requests", "/api/aimo/series",
                             "/api/aimo/status", "/api/aimo/balance"}) {
        INFO(path);
        auto refused = http_get(d.proxy.port(), path);
        CHECK(refused.status == 401);
        CHECK(code_of(refused) == "missing_api_key");
        CHECK(http_get(d.proxy.port(), path, bearer("aimo_wrong")).status == 401);
        CHECK(http_get(d.proxy.port(), path, bearer(token)).status == 200);
    }
    CHECK(http_get(d.proxy.port(), "/ui?token=" + token).status == 200);
    CHECK(http_get(d.proxy.port(), "/ui?token=aimo_wrong").status == 401);
}

TEST_CASE("owner actions are off unless enabled", "[ui][owner]") {
    Dashboard d;
    auto refused = http_post(d.proxy.port(), "/api/aimo/agents", R"({"name":"web"})", owner());
    CHECK(refused.status == 403);
    CHECK(code_of(refused) == "owner_actions_disabled");
    CHECK(d.get("/api/aimo/agents").empty());
}

TEST_CASE("with the owner secret the dashboard creates, changes and revokes agents, each action "
          "in the audit trail",
          "[ui][owner]") {
    Dashboard d(with_owner);
    CHECK(d.get("/api/aimo/status")["owner_actions"] == true);
    auto agent_token = d.agent("bot");
    auto post = [&](const std::string& path, const std::string& body,
                    const httplib::Headers& headers = owner()) {
        return http_post(d.proxy.port(), path, body, headers);
    };

    SECTION("only the owner secret acts: no header, an agent's token or a wrong secret do not") {
        auto none = post("/api/aimo/agents", R"({"name":"web"})", {});
        CHECK(none.status == 401);
        CHECK(code_of(none) == "owner_secret_required");
        CHECK(post("/api/aimo/agents", R"({"name":"web"})", owner(agent_token)).status == 403);
        auto wrong = post("/api/aimo/agents", R"({"name":"web"})", owner("aimo_owner_guess"));
        CHECK(wrong.status == 403);
        CHECK(code_of(wrong) == "owner_secret_invalid");
        CHECK(d.get("/api/aimo/agents").size() == 1);
    }

    SECTION("a created agent's token works at once; a change and a revoke apply at once") {
        auto created = post("/api/aimo/agents", R"({"name":"web","budget_usd":2,"rpm":30})");
        REQUIRE(created.status == 201);
        std::string token = json::parse(created.body)["token"];
        CHECK(token.rfind("aimo_", 0) == 0);
        CHECK(http_post(d.proxy.port(), "/v1/chat/completions", chat(), bearer(token)).status ==
              200);

        auto again = post("/api/aimo/agents", R"({"name":"web"})");
        CHECK(again.status == 409);
        CHECK(code_of(again) == "agent_exists");

        REQUIRE(post("/api/aimo/agents/web", R"({"budget_usd":3.5,"rpm":null})").status == 200);
        auto agents = d.get("/api/aimo/agents");
        REQUIRE(agents.size() == 2);
        CHECK(agents[1]["budget_usd"] == 3.5);
        CHECK(agents[1]["rpm"].is_null());

        REQUIRE(post("/api/aimo/agents/web/revoke", "").status == 200);
        CHECK(d.get("/api/aimo/agents")[1]["state"] == "revoked");
        CHECK(http_post(d.proxy.port(), "/v1/chat/completions", chat(), bearer(token)).status ==
              401);

        auto actions = governance::read_owner_actions(d.proxy.db(), 10);
        REQUIRE(actions.size() == 3);
        CHECK(actions[0].action == "create");
        CHECK(actions[1].action == "update");
        CHECK(actions[2].action == "revoke");
        for (const auto& action : actions) {
            CHECK(action.agent == "web");
            CHECK(action.origin == "127.0.0.1");
            CHECK_THAT(action.detail, !Contains(token));
        }
        CHECK(json::parse(actions[0].detail) == json{{"budget_usd", 2.0}, {"rpm", 30}});
        CHECK(json::parse(actions[1].detail) == json{{"budget_usd", 3.5}, {"rpm", nullptr}});
        auto verified = governance::verify_owner_actions(d.proxy.db());
        CHECK(verified.ok);
        CHECK(verified.records == 3);
    }

    SECTION("bad requests are refused with what was wrong, and change nothing") {
        auto bad_budget = post("/api/aimo/agents", R"({"name":"web","budget_usd":"lots"})");
        CHECK(bad_budget.status == 400);
        CHECK_THAT(bad_budget.body, Contains("budget_usd"));
        auto negative = post("/api/aimo/agents", R"({"name":"web","budget_usd":-1})");
        CHECK(negative.status == 400);
        CHECK_THAT(post("/api/aimo/agents", R"({"name":"web","colour":"red"})").body,
                   Contains("'colour'"));
        CHECK(post("/api/aimo/agents", R"({"name":"no spaces"})").status == 400);
        CHECK(post("/api/aimo/agents", "not json").status == 400);
        CHECK(post("/api/aimo/agents/bot", R"({"weight":0})").status == 400);
        auto missing = post("/api/aimo/agents/ghost", R"({"budget_usd":1})");
        CHECK(missing.status == 404);
        CHECK(code_of(missing) == "agent_not_found");
        CHECK(post("/api/aimo/agents/ghost/revoke", "").status == 404);
        CHECK(d.get("/api/aimo/agents").size() == 1);
        CHECK(governance::read_owner_actions(d.proxy.db(), 10).empty());
    }
}

TEST_CASE("the dashboard's series count cache hits and what they saved", "[ui]") {
    Dashboard d;
    auto cached = R"({"model":")" + std::string(model) +
                  R"(","temperature":0,"messages":[{"role":"user","content":"cache me"}]})";
    REQUIRE(http_post(d.proxy.port(), "/v1/chat/completions", cached).header("x-aimo-cache") ==
            "miss");
    for (int i = 0; i < 2; ++i) {
        REQUIRE(http_post(d.proxy.port(), "/v1/chat/completions", cached).header("x-aimo-cache") ==
                "hit");
    }
    d.proxy.flush_ledger();
    auto series = d.get("/api/aimo/series?range=month&by=agent");
    CHECK(series["cache"]["hits"] == 2);
    CHECK(series["cache"]["lookups"] == 3);
    CHECK(series["cache"]["saved_usd"].get<double>() > 0);
    auto requests = d.get("/api/aimo/requests");
    REQUIRE(requests.size() == 3);
    CHECK(requests[0]["cache"] == "hit");
    CHECK(requests[2]["cache"] == "miss");
    // A hit goes to no provider: the provider's last hour counts the one real request.
    CHECK(d.get("/api/aimo/status")["providers"][0]["last_hour"]["requests"] == 1);
}
