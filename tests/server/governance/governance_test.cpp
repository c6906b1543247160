// Agent tokens, model lists, rate limits, budgets and the usage ledger, through the real proxy.
#include "core/error.hpp"
#include "fake_router.hpp"
#include "fake_upstream.hpp"
#include "governance/ledger.hpp"
#include "http_helpers.hpp"
#include "proxy_fixture.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

using namespace aimo;
using namespace aimo::test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
constexpr const char* model = "deepseek/deepseek-v3.2"; // 0.28 / 0.42 USD per million tokens

std::string chat(bool stream = false, const std::string& extra = "") {
    return R"({"model":")" + std::string(model) + R"(","max_tokens":10,"stream":)" +
           (stream ? "true" : "false") + extra + R"(,"messages":[{"role":"user","content":"hi"}]})";
}

httplib::Headers bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
}

struct Governed {
    TempDir dir;
    FakeRouter router;
    ProxyFixture proxy;
    explicit Governed(bool require_auth = false, bool metrics_need_token = false)
        : proxy(router.url(), [&] {
              ProxyFixtureOptions options;
              options.database = dir / "aimo.db";
              options.require_auth = require_auth;
              options.metrics_need_token = metrics_need_token;
              return options;
          }()) {}
    // Agents are managed from another connection, as `aimo agent …` does from its process.
    std::string agent(const std::string& name, governance::AgentLimits limits = {}) {
        governance::Database cli(dir / "aimo.db");
        return governance::AgentStore(cli).create(name, limits, "2026-11-21T00:00:00Z");
    }
    std::string code_of(const Reply& reply) { return json::parse(reply.body)["error"]["code"]; }
    std::vector<governance::StoredRecord> records() {
        proxy.flush_ledger();
        return governance::read_records(proxy.db(), 1000);
    }
};
} // namespace

TEST_CASE("without agents loopback use stays key-less, with one, tokens are checked",
          "[governance]") {
    Governed g;
    CHECK(http_post(g.proxy.port(), "/v1/chat/completions", chat()).status == 200);

    auto token = g.agent("bot", {{}, {}, {}, {"openai/gpt-4o-mini", model}});
    auto missing = http_post(g.proxy.port(), "/v1/chat/completions", chat());
    CHECK(missing.status == 401);
    CHECK(g.code_of(missing) == "missing_api_key");
    CHECK(json::parse(missing.body)["error"]["type"] == "authentication_error");

    auto unknown = http_post(g.proxy.port(), "/v1/chat/completions", chat(), bearer("aimo_nope"));
    CHECK(unknown.status == 401);
    CHECK(g.code_of(unknown) == "invalid_api_key");

    auto ok = http_post(g.proxy.port(), "/v1/chat/completions", chat(), bearer(token));
    CHECK(ok.status == 200);
    CHECK(g.router.requests().back().siwx.valid);
    // The agent's token stays here: the router sees a signature, not the token.
    CHECK(g.router.requests().back().headers.count("Authorization") == 0);

    auto other = http_post(g.proxy.port(), "/v1/chat/completions",
                           R"({"model":"plain-model","messages":[]})", bearer(token));
    CHECK(other.status == 403);
    CHECK(g.code_of(other) == "model_not_allowed");
    CHECK_THAT(other.body, Contains("agent 'bot' may not use model 'plain-model'"));

    {
        governance::Database cli(g.dir / "aimo.db");
        governance::AgentStore(cli).revoke("bot", "2026-11-21T01:00:00Z");
    }
    auto revoked = http_post(g.proxy.port(), "/v1/chat/completions", chat(), bearer(token));
    CHECK(revoked.status == 401);
    CHECK(g.code_of(revoked) == "revoked_api_key");
    CHECK(g.router.count("/api/v1/chat") == 2); // only the admitted requests went out

    // Forwarded requests are in the ledger with who sent them; refusals are counted per
    // minute, agent, status and code, so hammering a closed door cannot grow it without bound.
    auto records = g.records();
    REQUIRE(records.size() == 2);
    CHECK(records[0].record.agent == "-");
    CHECK(records[1].record.agent == "bot");
    CHECK(records[1].record.status == 200);
    std::map<std::string, int64_t> refused;
    for (const auto& denial : governance::denials_since(g.proxy.db(), "")) {
        refused[denial.agent + " " + std::to_string(denial.status) + " " + denial.code] +=
            denial.count;
    }
    CHECK(refused == std::map<std::string, int64_t>{{"- 401 missing_api_key", 1},
                                                    {"- 401 invalid_api_key", 1},
                                                    {"bot 403 model_not_allowed", 1},
                                                    {"bot 401 revoked_api_key", 1}});
}

TEST_CASE("require-auth demands tokens before any agent exists", "[governance]") {
    Governed g(true);
    auto reply = http_post(g.proxy.port(), "/v1/chat/completions", chat());
    CHECK(reply.status == 401);
    CHECK(g.code_of(reply) == "missing_api_key");
    CHECK(g.router.count("/api/v1/chat") == 0);
}

TEST_CASE("over its requests per minute an agent gets 429 with rate-limit headers",
          "[governance]") {
    Governed g;
    auto token = g.agent("bot", {{}, 2, {}, {}});
    auto first = http_post(g.proxy.port(), "/v1/chat/completions", chat(), bearer(token));
    CHECK(first.status == 200);
    CHECK(first.header("x-ratelimit-limit-requests") == "2");
    CHECK(first.header("x-ratelimit-remaining-requests") == "1");
    CHECK(http_post(g.proxy.port(), "/v1/chat/completions", chat(), bearer(token)).status == 200);
    auto limited = http_post(g.proxy.port(), "/v1/chat/completions", chat(), bearer(token));
    CHECK(limited.status == 429);
    CHECK(g.code_of(limited) == "rate_limit_exceeded");
    CHECK_THAT(limited.body, Contains("limit of 2 requests per minute"));
    CHECK(limited.header("x-ratelimit-remaining-requests") == "0");
    auto retry = std::stoi(limited.header("Retry-After"));
    CHECK(retry >= 1);
    CHECK(retry <= 60);
    CHECK(limited.header("x-ratelimit-reset-requests") == std::to_string(retry) + "s");
    CHECK(g.router.count("/api/v1/chat") == 2);
}

TEST_CASE("over its tokens per minute an agent gets 429 naming the token limit", "[governance]") {
    Governed g;
    auto token = g.agent("bot", {{}, {}, 10, {}});
    // The fake router reports 5 tokens per answer; they count once the record is committed.
    CHECK(http_post(g.proxy.port(), "/v1/chat/completions", chat(), bearer(token)).status == 200);
    g.proxy.flush_ledger();
    auto second = http_post(g.proxy.port(), "/v1/chat/completions", chat(), bearer(token));
    CHECK(second.header("x-ratelimit-remaining-tokens") == "5");
    g.proxy.flush_ledger();
    auto limited = http_post(g.proxy.port(), "/v1/chat/completions", chat(), bearer(token));
    CHECK(limited.status == 429);
    CHECK_THAT(limited.body, Contains("limit of 10 tokens per minute"));
    CHECK(limited.header("x-ratelimit-limit-tokens") == "10");
    CHECK(limited.header("x-ratelimit-remaining-tokens") == "0");
    CHECK_FALSE(limited.header("Retry-After").empty());
}

TEST_CASE("a 50-way burst never spends more than the budget", "[governance]") {
    Governed g;
    // Each request reserves its worst case (~2e-5 USD: body bytes as prompt tokens plus
    // max_tokens), and really costs 1.68e-6; a slow router keeps them all in flight together.
    const double budget = 0.0001;
    auto token = g.agent("bot", {budget, {}, {}, {}});
    auto answer = g.router.on_completion;
    g.router.on_completion = [answer](const httplib::Request& req, httplib::Response& res) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200)); // simulated upstream work
        answer(req, res);
    };
    std::vector<std::future<Reply>> burst;
    for (int i = 0; i < 50; ++i) {
        burst.push_back(std::async(std::launch::async, [&] {
            return http_post(g.proxy.port(), "/v1/chat/completions", chat(), bearer(token));
        }));
    }
    int ok = 0;
    int refused = 0;
    for (auto& reply : burst) {
        auto r = reply.get();
        ok += r.status == 200 ? 1 : 0;
        if (r.status == 402) {
            ++refused;
            CHECK(json::parse(r.body)["error"]["code"] == "budget_exceeded");
            CHECK(json::parse(r.body)["error"]["type"] == "insufficient_quota");
        }
    }
    CHECK(ok + refused == 50);
    CHECK(ok >= 1);
    CHECK(refused >= 1);
    double spent = 0;
    for (const auto& stored : g.records()) {
        spent += stored.record.cost_usd;
    }
    CHECK(spent <= budget);
    CHECK(spent == Approx(ok * 1.68e-6));
    CHECK(static_cast<int>(g.router.count("/api/v1/chat")) == ok);
}

TEST_CASE("streamed usage is counted and the injected usage chunk stays invisible",
          "[governance]") {
    Governed g;
    std::string seen_body;
    g.router.on_completion = [&seen_body](const httplib::Request& req, httplib::Response& res) {
        seen_body = req.body;
        auto body = json::parse(req.body);
        std::string out = FakeRouter::sse_answer();
        if (body.contains("stream_options") && body["stream_options"]["include_usage"] == true) {
            out.insert(out.find("data: [DONE]"),
                       R"(data: {"id":"c1","choices":[],"usage":{"prompt_tokens":11,)"
                       R"("completion_tokens":7,"total_tokens":18}})"
                       "\n\n");
        }
        res.set_content(out, "text/event-stream");
    };
    auto plain = http_post(g.proxy.port(), "/v1/chat/completions", chat(true));
    REQUIRE(plain.status == 200);
    CHECK(json::parse(seen_body)["stream_options"]["include_usage"] == true);
    CHECK(json::parse(seen_body)["model"] == model);
    CHECK_THAT(plain.body, !Contains("usage") && Contains("Hel") && Contains("data: [DONE]"));

    auto asked = http_post(g.proxy.port(), "/v1/chat/completions",
                           chat(true, R"(,"stream_options":{"include_usage":true})"));
    CHECK_THAT(asked.body, Contains(R"("usage":{"prompt_tokens":11)"));

    auto records = g.records();
    REQUIRE(records.size() == 2);
    for (const auto& stored : records) {
        CHECK(stored.record.prompt_tokens == 11);
        CHECK(stored.record.completion_tokens == 7);
        CHECK(stored.record.cost_usd == Approx((11 * 0.28 + 7 * 0.42) / 1e6));
        CHECK(stored.record.provider == "aimo");
        CHECK(stored.record.status == 200);
    }
}

TEST_CASE("the audit chain catches an edited, a removed and a reordered record", "[governance]") {
    Governed g;
    for (int i = 0; i < 4; ++i) {
        http_post(g.proxy.port(), "/v1/chat/completions", chat());
    }
    g.proxy.flush_ledger();
    auto& db = g.proxy.db();
    CHECK(governance::verify_chain(db).ok);
    CHECK(governance::verify_chain(db).records == 4);
    // Updates and deletes are refused outright …
    CHECK_THROWS_AS(db.exec("UPDATE requests SET cost_usd = 0 WHERE seq = 2"), core::Error);
    // … so a tamperer drops the guards first.
    db.exec("DROP TRIGGER requests_append_only_update; DROP TRIGGER requests_append_only_delete");

    SECTION("edited") {
        db.exec("UPDATE requests SET cost_usd = 0 WHERE seq = 2");
        auto result = governance::verify_chain(db);
        CHECK_FALSE(result.ok);
        CHECK(result.first_bad == 2);
        CHECK_THAT(result.problem, Contains("was edited"));
    }
    SECTION("removed") {
        db.exec("DELETE FROM requests WHERE seq = 3");
        auto result = governance::verify_chain(db);
        CHECK_FALSE(result.ok);
        CHECK(result.first_bad == 4);
        CHECK_THAT(result.problem, Contains("records 3..3 are missing"));
    }
    SECTION("reordered") {
        // Swap the contents of records 2 and 3, keeping their numbers.
        db.exec("UPDATE requests SET seq = -2 WHERE seq = 2; UPDATE requests SET seq = 2 WHERE "
                "seq = 3; UPDATE requests SET seq = 3 WHERE seq = -2");
        auto result = governance::verify_chain(db);
        CHECK_FALSE(result.ok);
        CHECK(result.first_bad == 2);
    }
}

TEST_CASE("GET /metrics counts requests, tokens, cost, latency and upstream errors",
          "[governance]") {
    Governed g;
    auto token = g.agent("bot");
    http_post(g.proxy.port(), "/v1/chat/completions", chat(), bearer(token));
    http_post(g.proxy.port(), "/v1/chat/completions", chat(), bearer(token));
    http_post(g.proxy.port(), "/v1/chat/completions", chat()); // 401
    g.router.on_completion = [](const httplib::Request&, httplib::Response& res) {
        res.status = 503;
        res.set_content(R"({"error":{"message":"busy"}})", "application/json");
    };
    http_post(g.proxy.port(), "/v1/chat/completions", chat(), bearer(token));

    // An exchange is counted once its last byte is sent, which the client may see first: read
    // the figures once only this scrape is in flight.
    auto metrics = http_get(g.proxy.port(), "/metrics");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (metrics.body.find("aimo_in_flight_requests 1\n") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        metrics = http_get(g.proxy.port(), "/metrics");
    }
    REQUIRE(metrics.status == 200);
    CHECK_THAT(metrics.header("Content-Type"), Contains("text/plain"));
    const auto& text = metrics.body;
    CHECK_THAT(text, Contains(std::string("aimo_requests_total{agent=\"bot\",model=\"") + model +
                              "\",status=\"200\"} 2"));
    CHECK_THAT(text, Contains("aimo_denied_requests_total{agent=\"-\",status=\"401\","
                              "code=\"missing_api_key\"} 1"));
    CHECK_THAT(text, Contains(std::string("aimo_tokens_total{agent=\"bot\",model=\"") + model +
                              "\",type=\"prompt\"} 6"));
    CHECK_THAT(text, Contains("aimo_cost_usd_total{agent=\"bot\""));
    CHECK_THAT(text, Contains("aimo_upstream_errors_total{provider=\"aimo\",outcome=\"503\"} 1"));
    CHECK_THAT(text, Contains("aimo_http_responses_total{status=\"200\"} 2") &&
                         Contains("aimo_http_responses_total{status=\"503\"} 1"));
    CHECK_THAT(text, Contains("aimo_request_duration_seconds_count 4") &&
                         Contains("aimo_proxy_overhead_seconds_bucket{le=\"+Inf\"}"));
    CHECK_THAT(text, Contains("aimo_in_flight_requests 1")); // this very request
}

TEST_CASE("beyond loopback, GET /metrics wants an agent's token", "[governance]") {
    Governed g(false, true);
    // No agent yet, no authentication in force: nothing to protect, nothing asked.
    CHECK(http_get(g.proxy.port(), "/metrics").status == 200);

    auto token = g.agent("bot");
    auto revoked = g.agent("old");
    {
        governance::Database cli(g.dir / "aimo.db");
        governance::AgentStore(cli).revoke("old", "2026-11-21T01:00:00Z");
    }
    auto missing = http_get(g.proxy.port(), "/metrics");
    CHECK(missing.status == 401);
    CHECK(g.code_of(missing) == "missing_api_key");
    CHECK(json::parse(missing.body)["error"]["type"] == "authentication_error");
    CHECK(g.code_of(http_get(g.proxy.port(), "/metrics", bearer("aimo_wrong"))) ==
          "invalid_api_key");
    CHECK(g.code_of(http_get(g.proxy.port(), "/metrics", bearer(revoked))) == "revoked_api_key");
    auto allowed = http_get(g.proxy.port(), "/metrics", bearer(token));
    CHECK(allowed.status == 200);
    CHECK_THAT(allowed.body, Contains("aimo_in_flight_requests"));
}

TEST_CASE("a provider's configured prices set the cost, and a failed request costs nothing",
          "[governance]") {
    TempDir dir;
    FakeRouter router;
    FakeUpstream local("local", {"llama3"});
    ProxyFixture proxy(router.url(), [&] {
        ProxyFixtureOptions options;
        options.database = dir / "aimo.db";
        options.config = "[[providers]]\nname = \"local\"\nbase_url = \"" + local.base_url() +
                         "\"\nmodels = [\"llama3\"]\nprice_in = 2.0\nprice_out = 4.0\n";
        return options;
    }());
    // The records live in SQLite's write-ahead-log mode.
    governance::Statement mode(proxy.db().handle(), "PRAGMA journal_mode");
    REQUIRE(mode.step());
    CHECK(mode.text(0) == "wal");
    mode.reset();

    std::string token;
    {
        governance::Database cli(dir / "aimo.db");
        // One request's worst case here: ~55 body bytes as prompt tokens and 10 completion
        // tokens, ~150 µUSD. The budget fits the first answer's 400 µUSD and one more worst
        // case, but not once two failed requests had kept their reservations.
        token = governance::AgentStore(cli).create("bot", {0.0008, {}, {}, {}}, "t");
    }
    std::string body = R"({"model":"local/llama3","max_tokens":10,"messages":[]})";
    Scripted answered;
    answered.body = R"({"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":50}})";
    Scripted failed;
    failed.status = 400; // refused upstream; never retried, and no circuit breaker opens
    failed.body = R"({"error":{"message":"bad request"}})";
    local.set_default(answered);
    CHECK(http_post(proxy.port(), "/v1/chat/completions", body, bearer(token)).status == 200);
    proxy.flush_ledger(); // settled: the reservation became the real cost
    local.set_default(failed);
    for (int i = 0; i < 3; ++i) {
        CHECK(http_post(proxy.port(), "/v1/chat/completions", body, bearer(token)).status == 400);
        proxy.flush_ledger();
    }
    auto records = governance::read_records(proxy.db(), 10);
    REQUIRE(records.size() == 4);
    // 100 prompt tokens at 2 USD and 50 completion tokens at 4 USD per million.
    CHECK(records[0].record.cost_usd == Approx(100 * 2.0e-6 + 50 * 4.0e-6));
    for (size_t i = 1; i < records.size(); ++i) {
        CHECK(records[i].record.status == 400);
        CHECK(records[i].record.cost_usd == 0);
    }
    // Every failed request released what it had set aside: the next one is still admitted.
    local.set_default(answered);
    CHECK(http_post(proxy.port(), "/v1/chat/completions", body, bearer(token)).status == 200);
}
