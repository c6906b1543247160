#include "fake_router.hpp"
#include "http_helpers.hpp"
#include "proxy_fixture.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

TEST_CASE("an https router is verified, signed for and kept alive", "[proxy][tls]") {
    test::TempDir dir;
    auto tls = test::make_self_signed(dir.path());
    std::string host = GENERATE(std::string("localhost"), std::string("127.0.0.1"));
    test::FakeRouter router(&tls, host);
    test::ProxyFixtureOptions options;
    options.ca_file = tls.cert.string();
    test::ProxyFixture proxy(router.url(), options);

    for (int i = 0; i < 3; ++i) {
        auto reply =
            test::http_post(proxy.port(), "/v1/chat/completions", R"({"model":"m","stream":true})");
        REQUIRE(reply.status == 200);
        CHECK(reply.body == test::FakeRouter::sse_answer());
    }
    auto seen = router.requests();
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].siwx.valid);
    CHECK(seen[0].siwx.message.uri == router.url() + "/api/v1/chat/completions");
    CHECK(seen[0].siwx.message.domain == host + ":" + std::to_string(router.port()));
    CHECK(proxy.pool.connections_opened() == 1);
}

TEST_CASE("an https router with an untrusted certificate is a 502 that says why", "[proxy][tls]") {
    test::TempDir dir;
    auto tls = test::make_self_signed(dir.path());
    test::FakeRouter router(&tls, "localhost");
    test::ProxyFixture proxy(router.url()); // system CAs only
    auto reply = test::http_post(proxy.port(), "/v1/chat/completions", R"({"model":"m"})");
    CHECK(reply.status == 502);
    auto message = json::parse(reply.body)["error"]["message"].get<std::string>();
    CHECK_THAT(message, Contains("TLS handshake with " + router.url() + " failed"));
    CHECK_THAT(message, Contains("certificate"));
    CHECK(router.requests().empty());
}
