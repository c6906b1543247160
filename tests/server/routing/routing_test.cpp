// Several providers behind one door: merged catalogue, model naming, aliases, routes, request
// rewriting and per-provider credentials.
#include "fake_router.hpp"
#include "fake_upstream.hpp"
#include "http_helpers.hpp"
#include "proxy_fixture.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

using namespace aimo;
using namespace aimo::test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
std::vector<std::string> ids(const std::string& body) {
    std::vector<std::string> out;
    auto list = json::parse(body);
    for (const auto& model : list["data"]) {
        out.push_back(model["id"]);
    }
    return out;
}

struct TwoProviders {
    FakeRouter router;
    FakeUpstream ollama{"ollama", {"llama3", "qwen2"}};
    FakeUpstream groq{"groq", {"llama3", "mixtral"}};
    std::string config = fmt::format(R"(
[[providers]]
name = "aimo"
kind = "aimo"

[[providers]]
name = "ollama"
base_url = "{}"

[[providers]]
name = "groq"
base_url = "{}"
api_key_env = "GROQ_KEY"
headers = {{ "X-Team" = "agents" }}
models = ["mixtral", "llama3"]

[aliases]
fast = "ollama/qwen2"
smart = "best"

[[routes]]
model = "best"
targets = ["aimo/deepseek/deepseek-v3.2", "ollama/llama3"]
)",
                                     ollama.base_url(), groq.base_url());
    ProxyFixture proxy{router.url(), [this] {
                           ProxyFixtureOptions options;
                           options.config = config;
                           options.env["GROQ_KEY"] = "gsk-secret";
                           return options;
                       }()};
};
} // namespace

TEST_CASE("/v1/models merges every provider, then routes and aliases", "[routing]") {
    TwoProviders s;
    auto reply = http_get(s.proxy.port(), "/v1/models");
    REQUIRE(reply.status == 200);
    CHECK(ids(reply.body) ==
          std::vector<std::string>{"aimo/deepseek/deepseek-v3.2", "aimo/openai/gpt-4o-mini",
                                   "aimo/plain-model", "ollama/llama3", "ollama/qwen2",
                                   "groq/mixtral", "groq/llama3", "best", "fast", "smart"});
    auto models = json::parse(reply.body)["data"];
    CHECK(models[0]["aimo_provider"] == "aimo");
    CHECK(models[0]["aimo_model"] == "deepseek/deepseek-v3.2");
    CHECK(models[0]["context_length"] == 131072); // the router's details survive
    CHECK(models[7]["aimo_targets"] == json{"aimo/deepseek/deepseek-v3.2", "ollama/llama3"});
    CHECK(models[7]["context_length"] == 131072); // a route describes its first target
    CHECK(models[8]["aimo_alias_of"] == "ollama/qwen2");
    CHECK(s.groq.count() == 0); // an explicit list is not fetched

    // One model by any name a request may use, slashes and all.
    CHECK(json::parse(http_get(s.proxy.port(), "/v1/models/ollama/qwen2").body)["id"] ==
          "ollama/qwen2");
    CHECK(json::parse(http_get(s.proxy.port(), "/v1/models/qwen2").body)["id"] == "ollama/qwen2");
    CHECK(json::parse(http_get(s.proxy.port(), "/v1/models/best").body)["id"] == "best");
    CHECK(http_get(s.proxy.port(), "/v1/models/llama3").status == 404); // ambiguous
}

TEST_CASE("a provider-prefixed model goes to that provider with the bare id", "[routing]") {
    TwoProviders s;
    auto reply = http_post(s.proxy.port(), "/v1/chat/completions", chat_body("groq/mixtral"),
                           {{"Authorization", "Bearer client-key"}, {"X-Team", "client"}});
    REQUIRE(reply.status == 200);
    CHECK_THAT(reply.body, Contains("groq"));
    CHECK(reply.header("x-aimo-provider") == "groq");
    CHECK(reply.header("x-aimo-attempts") == "groq:200");
    auto seen = s.groq.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].path == "/v1/chat/completions");
    CHECK(json::parse(seen[0].body)["model"] == "mixtral");
    CHECK(json::parse(seen[0].body)["messages"][0]["content"] == "hi"); // the rest untouched
    CHECK(seen[0].header("Authorization") == "Bearer gsk-secret");      // never the client's
    CHECK(seen[0].header("X-Team") == "agents");
    CHECK(seen[0].headers.count("X-Team") == 1);
    CHECK(seen[0].header("SIGN-IN-WITH-X").empty());
    CHECK(s.ollama.count() == 0);
}

TEST_CASE("an aimo provider is signed for its own URL and keeps slashes in ids", "[routing]") {
    TwoProviders s;
    auto reply =
        http_post(s.proxy.port(), "/v1/chat/completions", chat_body("aimo/deepseek/deepseek-v3.2"));
    REQUIRE(reply.status == 200);
    auto seen = s.router.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].siwx.valid);
    CHECK(seen[0].siwx.message.uri == s.router.url() + "/api/v1/chat/completions");
    CHECK(json::parse(seen[0].body)["model"] == "deepseek/deepseek-v3.2");
}

TEST_CASE("bare ids resolve when one provider offers them", "[routing]") {
    TwoProviders s;
    auto reply = http_post(s.proxy.port(), "/v1/chat/completions", chat_body("qwen2"));
    CHECK(reply.status == 200);
    CHECK(reply.header("x-aimo-provider") == "ollama");
    REQUIRE(s.ollama.count() == 1);
    CHECK(s.ollama.requests()[0].body == chat_body("qwen2")); // unchanged: no rewrite needed

    auto ambiguous = http_post(s.proxy.port(), "/v1/chat/completions", chat_body("llama3"));
    CHECK(ambiguous.status == 400);
    CHECK(json::parse(ambiguous.body)["error"]["code"] == "model_ambiguous");
    CHECK_THAT(ambiguous.body, Contains("ollama/llama3") && Contains("groq/llama3"));

    auto unknown = http_post(s.proxy.port(), "/v1/chat/completions", chat_body("nope"));
    CHECK(unknown.status == 404);
    CHECK(json::parse(unknown.body)["error"]["code"] == "model_not_found");
    CHECK(s.ollama.count() == 1);
    CHECK(s.groq.count() == 0);
}

TEST_CASE("an alias leads to a route whose first target answers", "[routing]") {
    TwoProviders s;
    auto reply = http_post(s.proxy.port(), "/v1/chat/completions", chat_body("smart", true));
    REQUIRE(reply.status == 200);
    CHECK(reply.header("x-aimo-provider") == "aimo");
    CHECK_THAT(reply.body, Contains("data: [DONE]"));
    auto seen = s.router.requests();
    REQUIRE(seen.size() == 1);
    CHECK(json::parse(seen[0].body)["model"] == "deepseek/deepseek-v3.2");
    CHECK(json::parse(seen[0].body)["stream"] == true);

    auto fast = http_post(s.proxy.port(), "/v1/chat/completions", chat_body("fast"));
    CHECK(fast.header("x-aimo-provider") == "ollama");
    CHECK(json::parse(s.ollama.requests().at(0).body)["model"] == "qwen2");
    auto log = s.proxy.stop_and_log();
    CHECK_THAT(log, Contains("model=smart") && Contains("provider=aimo attempts=aimo:200"));
    CHECK_THAT(log, Contains("model=fast") && Contains("provider=ollama attempts=ollama:200"));
}

TEST_CASE("a provider whose model list fails leaves the others listed", "[routing]") {
    TwoProviders s;
    s.router.models_status = 503;
    auto reply = http_get(s.proxy.port(), "/v1/models");
    REQUIRE(reply.status == 200);
    auto listed = ids(reply.body);
    CHECK(std::find(listed.begin(), listed.end(), "ollama/qwen2") != listed.end());
    CHECK(std::find(listed.begin(), listed.end(), "aimo/plain-model") == listed.end());
    // A bare id not found says which lists were missing.
    auto unknown = http_post(s.proxy.port(), "/v1/chat/completions", chat_body("plain-model"));
    CHECK(unknown.status == 404);
    CHECK_THAT(unknown.body, Contains("aimo:"));
}
