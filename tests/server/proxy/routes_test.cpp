#include "fake_router.hpp"
#include "http_helpers.hpp"
#include "proxy_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

TEST_CASE("health answers without touching the router", "[proxy][routes]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    auto reply = test::http_get(proxy.port(), "/health");
    CHECK(reply.status == 200);
    CHECK(json::parse(reply.body)["status"] == "ok");
    CHECK(json::parse(reply.body)["service"] == "aimo");
    CHECK_FALSE(reply.header("x-request-id").empty());
    CHECK(router.requests().empty());
}

TEST_CASE("/v1/models maps the router catalogue to an OpenAI list", "[proxy][models]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    auto reply = test::http_get(proxy.port(), "/v1/models");
    REQUIRE(reply.status == 200);
    auto list = json::parse(reply.body);
    CHECK(list["object"] == "list");
    REQUIRE(list["data"].size() == 3);
    auto first = list["data"][0];
    CHECK(first["id"] == "deepseek/deepseek-v3.2");
    CHECK(first["object"] == "model");
    CHECK(first["owned_by"] == "deepseek");
    CHECK(first["created"].is_number_integer());
    CHECK(first["context_length"] == 131072);
    CHECK(first["display_name"] == "DeepSeek V3.2");
    CHECK(first["providers"][0]["pricing"]["prompt"] == "0.00000028");
    CHECK(list["data"][1]["owned_by"] == "openai");
    CHECK(list["data"][2]["id"] == "plain-model");

    auto seen = router.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].siwx.valid);
    CHECK(seen[0].siwx.message.uri == router.url() + "/api/v1/models");
}

TEST_CASE("the model list is cached for the configured time", "[proxy][models]") {
    test::FakeRouter router;
    SECTION("within the TTL the router is asked once") {
        test::ProxyFixture proxy(router.url());
        for (int i = 0; i < 5; ++i) {
            REQUIRE(test::http_get(proxy.port(), "/v1/models").status == 200);
        }
        CHECK(router.count("/api/v1/models") == 1);
    }
    SECTION("a zero TTL asks every time") {
        test::ProxyFixtureOptions options;
        options.models_ttl = std::chrono::seconds(0);
        test::ProxyFixture proxy(router.url(), options);
        for (int i = 0; i < 3; ++i) {
            REQUIRE(test::http_get(proxy.port(), "/v1/models").status == 200);
        }
        CHECK(router.count("/api/v1/models") == 3);
    }
}

TEST_CASE("the last good model list is served when a refresh fails", "[proxy][models]") {
    test::FakeRouter router;
    test::ProxyFixtureOptions options;
    options.models_ttl = std::chrono::seconds(0);
    test::ProxyFixture proxy(router.url(), options);
    auto good = test::http_get(proxy.port(), "/v1/models");
    REQUIRE(good.status == 200);
    router.models_status = 503;
    router.models_body = R"({"error":{"message":"maintenance"}})";
    auto stale = test::http_get(proxy.port(), "/v1/models");
    CHECK(stale.status == 200);
    CHECK(stale.body == good.body);
    CHECK(router.count("/api/v1/models") == 2);
    // The failure is remembered for a few seconds: no refetch on every request meanwhile.
    CHECK(test::http_get(proxy.port(), "/v1/models").body == good.body);
    CHECK(router.count("/api/v1/models") == 2);
}

TEST_CASE("one model by id, with raw or encoded slashes", "[proxy][models]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    for (const char* path :
         {"/v1/models/deepseek/deepseek-v3.2", "/v1/models/deepseek%2Fdeepseek-v3.2"}) {
        auto reply = test::http_get(proxy.port(), path);
        REQUIRE(reply.status == 200);
        CHECK(json::parse(reply.body)["id"] == "deepseek/deepseek-v3.2");
    }
    auto missing = test::http_get(proxy.port(), "/v1/models/nope/nothing");
    CHECK(missing.status == 404);
    auto error = json::parse(missing.body)["error"];
    CHECK(error["code"] == "model_not_found");
    CHECK_THAT(error["message"].get<std::string>(), Contains("nope/nothing"));
}

TEST_CASE("a router failure on /v1/models is a 502 naming the router", "[proxy][models]") {
    test::FakeRouter router;
    router.models_body = "<html>oops</html>";
    test::ProxyFixture proxy(router.url());
    auto reply = test::http_get(proxy.port(), "/v1/models");
    CHECK(reply.status == 502);
    CHECK_THAT(json::parse(reply.body)["error"]["message"].get<std::string>(),
               Contains(router.url()));
    // Asked again at once, the remembered failure answers; the router is not asked again.
    CHECK(test::http_get(proxy.port(), "/v1/models").status == 502);
    CHECK(router.count("/api/v1/models") == 1);
}

TEST_CASE("unknown paths are a 404 naming the path, wrong methods a 405", "[proxy][routes]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    auto reply = test::http_get(proxy.port(), "/chat/completions");
    CHECK(reply.status == 404);
    auto error = json::parse(reply.body)["error"];
    CHECK(error["type"] == "invalid_request_error");
    CHECK(error["code"] == "not_found");
    CHECK_THAT(error["message"].get<std::string>(), Contains("GET /chat/completions"));

    auto wrong = test::http_get(proxy.port(), "/v1/chat/completions");
    CHECK(wrong.status == 405);
    CHECK(wrong.header("Allow") == "POST");
    CHECK(router.requests().empty());
}
