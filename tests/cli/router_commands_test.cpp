#include "cli_setup.hpp"
#include "fake_router.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
struct Setup : test::CliSetup {
    test::FakeRouter router;
    Setup() { cli.use_router(router.url()); }
};
} // namespace

TEST_CASE("list-models prints a table with context and prices per million", "[list-models]") {
    Setup s;
    auto result = s.cli.run({"list-models"});
    REQUIRE(result.code == 0);
    CHECK_THAT(result.out, Contains("ID") && Contains("CONTEXT") && Contains("$/M IN"));
    CHECK_THAT(result.out, Contains("deepseek/deepseek-v3.2") && Contains("131072") &&
                               Contains("0.28") && Contains("0.42"));
    CHECK_THAT(result.out, Contains("openai/gpt-4o-mini") && Contains("0.15") && Contains("0.60"));
    CHECK_THAT(result.err, Contains("3 models"));
    CHECK(s.router.requests().at(0).siwx.valid);
}

TEST_CASE("list-models --json and router list-models print the OpenAI list", "[list-models]") {
    Setup s;
    auto direct = s.cli.run({"list-models", "--json"});
    auto alias = s.cli.run({"router", "list-models", "--json"});
    REQUIRE(direct.code == 0);
    CHECK(direct.out == alias.out);
    auto list = json::parse(direct.out);
    CHECK(list["object"] == "list");
    CHECK(list["data"][0]["id"] == "deepseek/deepseek-v3.2");
}

TEST_CASE("list-models fails clearly when the router is down or errs", "[list-models]") {
    Setup s;
    SECTION("error status") {
        s.router.models_status = 503;
        s.router.models_body = R"({"error":{"message":"maintenance"}})";
        auto result = s.cli.run({"list-models"});
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains("answered 503: maintenance"));
    }
    SECTION("unreachable") {
        auto result = s.cli.run({"list-models", "--router-url", "http://127.0.0.1:1"});
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains("aimo: error: cannot connect to http://127.0.0.1:1"));
    }
    SECTION("bad URL") {
        auto result = s.cli.run({"list-models", "--router-url", "ftp://x"});
        CHECK(result.code == 2);
        CHECK_THAT(result.err, Contains("invalid router URL") && Contains("--router-url"));
    }
    SECTION("no keypair") {
        auto result = s.cli.run({"list-models", "--keypair", (s.home / "none.json").string()});
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains("aimo keygen"));
    }
}

TEST_CASE("router get-balance prints the signed balance", "[router]") {
    Setup s;
    auto result = s.cli.run({"router", "get-balance"});
    REQUIRE(result.code == 0);
    CHECK(result.out == "balance: 12.50 USD\n");
    auto seen = s.router.requests().at(0);
    CHECK(seen.path == "/api/v1/session/balance");
    CHECK(seen.siwx.valid);
    CHECK(seen.siwx.message.uri == s.router.url() + "/api/v1/session/balance");
    auto json_result = s.cli.run({"router", "get-balance", "--json"});
    CHECK(json::parse(json_result.out)["currency"] == "USD");
}

TEST_CASE("chat --message streams one answer", "[chat]") {
    Setup s;
    auto result = s.cli.run(
        {"chat", "--model", "deepseek/deepseek-v3.2", "--message", "hi", "--system", "be brief"});
    REQUIRE(result.code == 0);
    CHECK(result.out == "Hello!\n");
    auto body = json::parse(s.router.requests().at(0).body);
    CHECK(body["model"] == "deepseek/deepseek-v3.2");
    CHECK(body["stream"] == true);
    CHECK(body["messages"] == json::parse(R"([{"role":"system","content":"be brief"},
                                              {"role":"user","content":"hi"}])"));
    CHECK(s.router.requests().at(0).siwx.valid);
}

TEST_CASE("interactive chat keeps the conversation", "[chat]") {
    Setup s;
    auto result = s.cli.run({"chat", "-m", "m1"}, "first\nsecond\n");
    REQUIRE(result.code == 0);
    CHECK(result.out == "Hello!\nHello!\n");
    auto seen = s.router.requests();
    REQUIRE(seen.size() == 2);
    auto messages = json::parse(seen[1].body)["messages"];
    CHECK(messages == json::parse(R"([{"role":"user","content":"first"},
                                      {"role":"assistant","content":"Hello!"},
                                      {"role":"user","content":"second"}])"));
}

TEST_CASE("chat reports an upstream failure and needs a model", "[chat]") {
    Setup s;
    auto missing_model = s.cli.run({"chat", "--message", "hi"});
    CHECK(missing_model.code == 2);
    CHECK_THAT(missing_model.err, Contains("--model is required"));

    s.router.on_completion = [](const httplib::Request&, httplib::Response& res) {
        res.status = 402;
        res.set_content(R"({"error":{"message":"insufficient balance"}})", "application/json");
    };
    auto broke = s.cli.run({"chat", "-m", "m1", "--message", "hi"});
    CHECK(broke.code == 1);
    CHECK_THAT(broke.err, Contains("402: insufficient balance") && Contains("hint:"));

    s.router.on_completion = [](const httplib::Request&, httplib::Response& res) {
        res.set_content("data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\n",
                        "text/event-stream");
    };
    auto cut = s.cli.run({"chat", "-m", "m1", "--message", "hi"});
    CHECK(cut.code == 1);
    CHECK_THAT(cut.err, Contains("ended before [DONE]"));
}
