// The response cache, through the real proxy: what is served from it, to whom, in which shape,
// what is never stored, and what it saves on the ledger.
#include "fake_router.hpp"
#include "fake_upstream.hpp"
#include "governance/agents.hpp"
#include "governance/stats.hpp"
#include "http_helpers.hpp"
#include "proxy_fixture.hpp"
#include "temp_dir.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

using namespace aimo;
using namespace aimo::test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
std::string chunk(const json& delta, const json& finish = nullptr) {
    return FakeUpstream::chunk_event(delta, finish);
}

std::string request(const std::string& text, json extra = json::object()) {
    json body = {
        {"model", "local/llama3"},
        {"temperature", 0},
        {"messages",
         {{{"role", "system"}, {"content", "be brief"}}, {{"role", "user"}, {"content", text}}}}};
    body.update(extra);
    return body.dump();
}

std::string completion(const std::string& content, const std::string& finish = "stop") {
    return json{{"id", "chatcmpl-1"},
                {"object", "chat.completion"},
                {"created", 1},
                {"model", "llama3"},
                {"choices",
                 {{{"index", 0},
                   {"message", {{"role", "assistant"}, {"content", content}}},
                   {"finish_reason", finish}}}},
                {"usage", {{"prompt_tokens", 1000}, {"completion_tokens", 500}}}}
        .dump();
}

// A streamed tool call: the name first, the arguments in three pieces, usage at the end.
std::vector<std::string> tool_call_stream() {
    auto call = FakeUpstream::tool_call_delta;
    return {chunk({{"role", "assistant"}, {"content", nullptr}}),
            chunk(call({{"name", "get_weather"}, {"arguments", ""}}, "call_7")),
            chunk(call({{"arguments", "{\"city\":"}}, "")),
            chunk(call({{"arguments", "\"Paris\""}}, "")),
            chunk(call({{"arguments", "}"}}, "")),
            chunk(json::object(), "tool_calls"),
            "data: " +
                json{{"id", "chatcmpl-2"},
                     {"object", "chat.completion.chunk"},
                     {"choices", json::array()},
                     {"usage", {{"prompt_tokens", 40}, {"completion_tokens", 12}}}}
                    .dump() +
                "\n\n",
            "data: [DONE]\n\n"};
}

// The data of every event of an SSE body.
std::vector<json> events(const std::string& body) {
    std::vector<json> out;
    size_t at = 0;
    while ((at = body.find("data: ", at)) != std::string::npos) {
        size_t end = body.find("\n\n", at);
        std::string data = body.substr(at + 6, end - at - 6);
        out.push_back(data == "[DONE]" ? json("[DONE]") : json::parse(data));
        at = end;
    }
    return out;
}

httplib::Headers bearer(const std::string& token, httplib::Headers more = {}) {
    more.emplace("Authorization", "Bearer " + token);
    return more;
}

struct Setup {
    FakeRouter router;
    FakeUpstream local{"local", {"llama3", "nomic"}};
    TempDir dir;
    ProxyFixtureOptions options(cache::Settings settings = {}) {
        ProxyFixtureOptions o;
        o.config = fmt::format(R"(
[[providers]]
name = "local"
base_url = "{}"
price_in = 1.0
price_out = 2.0
)",
                               local.base_url());
        o.cache = std::move(settings);
        o.database = dir / "aimo.db";
        return o;
    }
    std::string agent(const std::string& name, governance::AgentLimits limits = {}) {
        governance::Database db(dir / "aimo.db");
        return governance::AgentStore(db).create(name, limits, "2026-12-01T00:00:00Z");
    }
};
} // namespace

TEST_CASE("a repeated request is answered from the cache, x-aimo-cache says which", "[cache]") {
    Setup s;
    s.local.set_default({200, {}, completion("Paris.")});
    ProxyFixture proxy(s.router.url(), s.options());
    auto first = http_post(proxy.port(), "/v1/chat/completions", request("capital of France?"));
    CHECK(first.status == 200);
    CHECK(first.header("x-aimo-cache") == "miss");
    // Member order and whitespace do not matter; stream_options and user do not count.
    json same = json::parse(request("capital of France?"));
    same["user"] = "someone";
    auto second = http_post(proxy.port(), "/v1/chat/completions", same.dump(4));
    CHECK(second.status == 200);
    CHECK(second.header("x-aimo-cache") == "hit");
    CHECK(json::parse(second.body)["choices"][0]["message"]["content"] == "Paris.");
    CHECK(s.local.count() == 1);

    SECTION("another question, model or parameter is a miss") {
        CHECK(http_post(proxy.port(), "/v1/chat/completions", request("capital of Spain?"))
                  .header("x-aimo-cache") == "miss");
        CHECK(http_post(proxy.port(), "/v1/chat/completions",
                        request("capital of France?", {{"max_tokens", 10}}))
                  .header("x-aimo-cache") == "miss");
        CHECK(s.local.count() == 3);
    }
    SECTION("a request that samples is passed by, by default") {
        json sampled = json::parse(request("capital of France?"));
        sampled.erase("temperature");
        auto reply = http_post(proxy.port(), "/v1/chat/completions", sampled.dump());
        CHECK(reply.header("x-aimo-cache") == "bypass");
        CHECK(http_post(proxy.port(), "/v1/chat/completions",
                        request("capital of France?", {{"temperature", 0.7}}))
                  .header("x-aimo-cache") == "bypass");
        CHECK(s.local.count() == 3);
    }
    SECTION("Cache-Control: no-cache goes upstream and stores; no-store does neither") {
        auto fresh = http_post(proxy.port(), "/v1/chat/completions", request("capital of France?"),
                               {{"Cache-Control", "no-cache"}});
        CHECK(fresh.header("x-aimo-cache") == "miss");
        CHECK(s.local.count() == 2);
        auto unstored = http_post(proxy.port(), "/v1/chat/completions", request("and Italy?"),
                                  {{"Cache-Control", "max-age=0, No-Store"}});
        CHECK(unstored.header("x-aimo-cache") == "bypass");
        CHECK(http_post(proxy.port(), "/v1/chat/completions", request("and Italy?"))
                  .header("x-aimo-cache") == "miss");
        CHECK(s.local.count() == 4);
    }
    SECTION("other endpoints are passed by") {
        auto reply = http_post(proxy.port(), "/v1/embeddings",
                               json{{"model", "local/nomic"}, {"input", "x"}}.dump());
        CHECK(reply.header("x-aimo-cache") == "bypass");
    }
}

TEST_CASE("an agent never gets another agent's answer unless the namespace is shared", "[cache]") {
    Setup s;
    s.local.script({{200, {}, completion("for A")}, {200, {}, completion("for B")}});
    std::string a = s.agent("a");
    std::string b = s.agent("b");
    SECTION("per agent (the default)") {
        ProxyFixture proxy(s.router.url(), s.options());
        auto body = request("secret plan?");
        CHECK(http_post(proxy.port(), "/v1/chat/completions", body, bearer(a))
                  .header("x-aimo-cache") == "miss");
        auto other = http_post(proxy.port(), "/v1/chat/completions", body, bearer(b));
        CHECK(other.header("x-aimo-cache") == "miss");
        CHECK(json::parse(other.body)["choices"][0]["message"]["content"] == "for B");
        auto again = http_post(proxy.port(), "/v1/chat/completions", body, bearer(a));
        CHECK(again.header("x-aimo-cache") == "hit");
        CHECK(json::parse(again.body)["choices"][0]["message"]["content"] == "for A");
        CHECK(s.local.count() == 2);
    }
    SECTION("shared") {
        cache::Settings shared;
        shared.shared = true;
        ProxyFixture proxy(s.router.url(), s.options(shared));
        auto body = request("public fact?");
        CHECK(http_post(proxy.port(), "/v1/chat/completions", body, bearer(a))
                  .header("x-aimo-cache") == "miss");
        auto other = http_post(proxy.port(), "/v1/chat/completions", body, bearer(b));
        CHECK(other.header("x-aimo-cache") == "hit");
        CHECK(json::parse(other.body)["choices"][0]["message"]["content"] == "for A");
        CHECK(s.local.count() == 1);
    }
}

TEST_CASE("a streamed answer is served as JSON, and a JSON answer as a stream", "[cache]") {
    Setup s;
    ProxyFixture proxy(s.router.url(), s.options());
    SECTION("stream first: deltas and tool-call arguments assembled into one completion") {
        Scripted streamed;
        streamed.sse = tool_call_stream();
        s.local.script({streamed});
        auto first = http_post(proxy.port(), "/v1/chat/completions",
                               request("weather in Paris?", {{"stream", true}}));
        REQUIRE(first.status == 200);
        CHECK(first.header("x-aimo-cache") == "miss");
        auto hit = http_post(proxy.port(), "/v1/chat/completions", request("weather in Paris?"));
        REQUIRE(hit.status == 200);
        CHECK(hit.header("x-aimo-cache") == "hit");
        auto answer = json::parse(hit.body);
        CHECK(answer["object"] == "chat.completion");
        const auto& choice = answer["choices"][0];
        CHECK(choice["finish_reason"] == "tool_calls");
        CHECK(choice["message"]["tool_calls"][0]["id"] == "call_7");
        CHECK(choice["message"]["tool_calls"][0]["function"]["name"] == "get_weather");
        CHECK(choice["message"]["tool_calls"][0]["function"]["arguments"] ==
              "{\"city\":\"Paris\"}");
        CHECK(answer["usage"]["completion_tokens"] == 12);
        // And as a stream again, with usage only when asked for.
        auto replay = http_post(proxy.port(), "/v1/chat/completions",
                                request("weather in Paris?", {{"stream", true}}));
        CHECK(replay.header("x-aimo-cache") == "hit");
        CHECK_THAT(replay.header("Content-Type"), Contains("text/event-stream"));
        auto replayed = events(replay.body);
        CHECK(replayed.back() == "[DONE]");
        for (const auto& event : replayed) {
            if (event.is_object()) {
                CHECK_FALSE(event.contains("usage"));
            }
        }
        CHECK(s.local.count() == 1);
    }
    SECTION("JSON first: replayed as role, content, finish_reason, usage and [DONE]") {
        s.local.script({{200, {}, completion("Bonjour !")}});
        CHECK(http_post(proxy.port(), "/v1/chat/completions", request("greet me"))
                  .header("x-aimo-cache") == "miss");
        auto replay = http_post(
            proxy.port(), "/v1/chat/completions",
            request("greet me", {{"stream", true}, {"stream_options", {{"include_usage", true}}}}));
        CHECK(replay.header("x-aimo-cache") == "hit");
        auto replayed = events(replay.body);
        REQUIRE(replayed.size() >= 4);
        CHECK(replayed[0]["choices"][0]["delta"]["role"] == "assistant");
        std::string text;
        std::string finish;
        json usage;
        for (const auto& event : replayed) {
            if (!event.is_object()) {
                continue;
            }
            CHECK(event["object"] == "chat.completion.chunk");
            if (event.contains("usage")) {
                usage = event["usage"];
                CHECK(event["choices"].empty());
                continue;
            }
            const auto& c = event["choices"][0];
            text += c["delta"].value("content", "");
            if (c["finish_reason"].is_string()) {
                finish = c["finish_reason"];
            }
        }
        CHECK(text == "Bonjour !");
        CHECK(finish == "stop");
        CHECK(usage["prompt_tokens"] == 1000);
        CHECK(replayed.back() == "[DONE]");
    }
}

TEST_CASE("errors, cut streams and truncated answers are never stored", "[cache]") {
    Setup s;
    ProxyFixture proxy(s.router.url(), s.options());
    auto twice = [&](const std::string& body) {
        http_post(proxy.port(), "/v1/chat/completions", body);
        return http_post(proxy.port(), "/v1/chat/completions", body);
    };
    SECTION("an upstream error") {
        s.local.script({{400, {}, R"({"error":{"message":"bad","type":"invalid_request_error"}})"},
                        {200, {}, completion("fine")}});
        auto second = twice(request("q1"));
        CHECK(second.header("x-aimo-cache") == "miss");
        CHECK(second.status == 200);
        CHECK(s.local.count() == 2);
    }
    SECTION("a stream without its end") {
        Scripted cut;
        cut.sse = {chunk({{"role", "assistant"}, {"content", "half"}})};
        s.local.script({cut});
        auto second = twice(request("q2", {{"stream", true}}));
        CHECK(second.header("x-aimo-cache") == "miss");
        CHECK(s.local.count() == 2);
    }
    SECTION("cut by a limit the request did not set") {
        s.local.script({{200, {}, completion("trunc", "length")}});
        CHECK(twice(request("q3")).header("x-aimo-cache") == "miss");
        CHECK(s.local.count() == 2);
    }
    SECTION("an answer without \"object\" (some compatible servers omit it) is stored") {
        auto bare = json::parse(completion("bare"));
        bare.erase("object");
        s.local.script({{200, {}, bare.dump()}});
        CHECK(twice(request("q5")).header("x-aimo-cache") == "hit");
        CHECK(s.local.count() == 1);
    }
    SECTION("cut by the request's own limit is its answer") {
        s.local.script({{200, {}, completion("trunc", "length")}});
        CHECK(twice(request("q4", {{"max_tokens", 5}})).header("x-aimo-cache") == "hit");
        CHECK(s.local.count() == 1);
    }
}

TEST_CASE("ten identical requests at once cost one upstream request", "[cache]") {
    Setup s;
    Scripted slow{200, {}, completion("once"), 300};
    s.local.set_default(slow);
    ProxyFixture proxy(s.router.url(), s.options());
    std::vector<std::thread> clients;
    std::vector<Reply> replies(10);
    for (size_t i = 0; i < replies.size(); ++i) {
        clients.emplace_back([&, i] {
            replies[i] = http_post(proxy.port(), "/v1/chat/completions", request("stampede"));
        });
    }
    for (auto& client : clients) {
        client.join();
    }
    int hits = 0;
    for (const auto& reply : replies) {
        CHECK(reply.status == 200);
        CHECK(json::parse(reply.body)["choices"][0]["message"]["content"] == "once");
        hits += reply.header("x-aimo-cache") == "hit" ? 1 : 0;
    }
    CHECK(hits == 9);
    CHECK(s.local.count() == 1);
}

TEST_CASE("entries expire after the ttl", "[cache]") {
    Setup s;
    s.local.set_default({200, {}, completion("fresh")});
    auto now = std::make_shared<std::atomic<int64_t>>(1'800'000'000);
    cache::Settings settings;
    settings.ttl_seconds = 60;
    auto options = s.options(settings);
    options.clock = [now] {
        return std::chrono::system_clock::time_point(std::chrono::seconds(now->load()));
    };
    ProxyFixture proxy(s.router.url(), options);
    http_post(proxy.port(), "/v1/chat/completions", request("ttl"));
    *now += 59;
    CHECK(http_post(proxy.port(), "/v1/chat/completions", request("ttl")).header("x-aimo-cache") ==
          "hit");
    *now += 1;
    CHECK(http_post(proxy.port(), "/v1/chat/completions", request("ttl")).header("x-aimo-cache") ==
          "miss");
    CHECK(s.local.count() == 2);
}

TEST_CASE("the cache survives a restart, a corrupt cache file is discarded with a warning",
          "[cache]") {
    Setup s;
    s.local.set_default({200, {}, completion("kept")});
    {
        ProxyFixture proxy(s.router.url(), s.options());
        CHECK(http_post(proxy.port(), "/v1/chat/completions", request("persist"))
                  .header("x-aimo-cache") == "miss");
        proxy.flush_ledger();
    }
    {
        ProxyFixture proxy(s.router.url(), s.options());
        auto hit = http_post(proxy.port(), "/v1/chat/completions", request("persist"));
        CHECK(hit.header("x-aimo-cache") == "hit");
        CHECK(json::parse(hit.body)["choices"][0]["message"]["content"] == "kept");
        CHECK(proxy.warnings().empty());
    }
    CHECK(s.local.count() == 1);
    for (const char* suffix : {"-wal", "-shm"}) {
        std::filesystem::remove(s.dir / (std::string("cache.db") + suffix));
    }
    {
        std::ofstream garbage(s.dir / "cache.db", std::ios::binary | std::ios::trunc);
        garbage << std::string(8192, '\x5a');
    }
    ProxyFixture proxy(s.router.url(), s.options());
    CHECK_THAT(proxy.warnings(), Contains("was discarded"));
    CHECK(http_post(proxy.port(), "/v1/chat/completions", request("persist"))
              .header("x-aimo-cache") == "miss");
    proxy.flush_ledger();
    CHECK(http_post(proxy.port(), "/v1/chat/completions", request("persist"))
              .header("x-aimo-cache") == "hit");
}

TEST_CASE("a hit costs the agent nothing and is recorded with what it saved", "[cache]") {
    Setup s;
    s.local.set_default({200, {}, completion("cheap")});
    governance::AgentLimits limits;
    limits.rpm = 3;
    limits.budget_usd = 1.0;
    std::string token = s.agent("scout", limits);
    ProxyFixture proxy(s.router.url(), s.options());
    auto headers = bearer(token, {{"User-Agent", "openclaw/2026.11"}});
    http_post(proxy.port(), "/v1/chat/completions", request("save me"), headers);
    auto hit = http_post(proxy.port(), "/v1/chat/completions", request("save me"), headers);
    CHECK(hit.header("x-aimo-cache") == "hit");
    // A hit counts as a request for the rate limit (with no tokens).
    CHECK(hit.header("x-ratelimit-remaining-requests") == "1");
    proxy.flush_ledger();
    auto rows = governance::stats_since(proxy.db(), "", "agent");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].requests == 2);
    CHECK(rows[0].cache_hits == 1);
    CHECK(rows[0].hit_rate() == Approx(0.5));
    // 1000 prompt tokens at $1/M and 500 completion tokens at $2/M, paid once, saved once.
    CHECK(rows[0].cost_usd == Approx(0.002));
    CHECK(rows[0].saved_usd == Approx(0.002));
    auto by_client = governance::stats_since(proxy.db(), "", "client");
    REQUIRE(by_client.size() == 1);
    CHECK(by_client[0].key == "openclaw");
    CHECK(by_client[0].cache_hits == 1);
    auto metrics = http_get(proxy.port(), "/metrics");
    CHECK_THAT(metrics.body, Contains("aimo_cache_requests_total{result=\"hit\"} 1"));
    CHECK_THAT(metrics.body, Contains("aimo_cache_requests_total{result=\"miss\"} 1"));
    CHECK_THAT(metrics.body, Contains("aimo_cache_saved_usd_total 0.002000000"));
    CHECK(http_post(proxy.port(), "/v1/chat/completions", request("save me"), headers).status ==
          200);
    CHECK(http_post(proxy.port(), "/v1/chat/completions", request("save me"), headers).status ==
          429);
}

namespace {
// An embeddings provider whose vectors are chosen per sentence: paraphrases close, others far.
struct FakeEmbeddings {
    std::map<std::string, std::vector<double>> vectors;
    std::atomic<int> calls{0};
    std::unique_ptr<TestServer> server;
    FakeEmbeddings() {
        vectors["What is the capital of France?"] = {1, 0, 0};
        vectors["Tell me the capital city of France"] = {0.99, 0.141, 0}; // cosine 0.99
        vectors["What is the capital of Germany?"] = {0.9, 0.436, 0};     // cosine 0.90
        auto http = std::make_unique<httplib::Server>();
        http->Post("/v1/embeddings", [this](const httplib::Request& req, httplib::Response& res) {
            ++calls;
            auto input = json::parse(req.body)["input"].get<std::string>();
            auto found = vectors.find(input);
            json vector = found == vectors.end() ? json({0, 0, 1}) : json(found->second);
            res.set_content(json{{"object", "list"},
                                 {"data", {{{"index", 0}, {"embedding", vector}}}},
                                 {"usage", {{"prompt_tokens", 8}, {"total_tokens", 8}}}}
                                .dump(),
                            "application/json");
        });
        server = std::make_unique<TestServer>(std::move(http));
    }
};
} // namespace

TEST_CASE("the semantic cache serves a paraphrase, not a near miss", "[cache][semantic]") {
    Setup s;
    FakeEmbeddings embeddings;
    s.local.set_default({200, {}, completion("Paris.")});
    cache::Settings settings;
    settings.mode = cache::Mode::semantic;
    settings.embeddings = "emb/nomic";
    auto options = s.options(settings);
    options.config += fmt::format(R"(
[[providers]]
name = "emb"
base_url = "{}/v1"
models = ["nomic"]
price_in = 0.5
)",
                                  embeddings.server->url());
    ProxyFixture proxy(s.router.url(), options);
    auto ask = [&](const std::string& text, const std::string& system = "be brief") {
        json body = json::parse(request(text));
        body["messages"][0]["content"] = system;
        return http_post(proxy.port(), "/v1/chat/completions", body.dump());
    };
    auto first = ask("What is the capital of France?");
    CHECK(first.header("x-aimo-cache") == "miss");
    proxy.flush_ledger(); // the embedding of a stored answer is made after it was served
    CHECK(embeddings.calls == 1);

    auto paraphrase = ask("Tell me the capital city of France");
    CHECK(paraphrase.header("x-aimo-cache") == "hit-semantic");
    CHECK(std::stod(paraphrase.header("x-aimo-cache-similarity")) == Approx(0.99).margin(0.001));
    CHECK(json::parse(paraphrase.body)["choices"][0]["message"]["content"] == "Paris.");
    CHECK(s.local.count() == 1);

    auto near_miss = ask("What is the capital of Germany?");
    CHECK(near_miss.header("x-aimo-cache") == "miss");
    CHECK(s.local.count() == 2);

    // Another context (system prompt) never matches, however close the question.
    auto other_context = ask("Tell me the capital city of France", "answer in German");
    CHECK(other_context.header("x-aimo-cache") == "miss");
    CHECK(s.local.count() == 3);

    proxy.flush_ledger();
    int embedding_records = 0;
    for (const auto& stored : governance::read_records(proxy.db(), 100)) {
        if (stored.record.cache == "embedding") {
            ++embedding_records;
            CHECK(stored.record.prompt_tokens == 8);
            CHECK(stored.record.cost_usd == Approx(8 * 0.5 / 1e6));
        }
    }
    CHECK(embedding_records == embeddings.calls.load());
}
