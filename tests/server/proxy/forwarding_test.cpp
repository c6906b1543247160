#include "fake_router.hpp"
#include "http_helpers.hpp"
#include "proxy_fixture.hpp"
#include "scripted_server.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
const std::string chat_body =
    R"({"model":"deepseek/deepseek-v3.2",  "messages":[{"role":"user","content":"secret prompt"}]})";

void check_healthy(int port) {
    CHECK(test::http_get(port, "/health").status == 200);
}
} // namespace

TEST_CASE("a completion is forwarded byte for byte with a fresh SIWx signature",
          "[proxy][forward]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    auto reply = test::http_post(proxy.port(), "/v1/chat/completions", chat_body,
                                 {{"Authorization", "Bearer sk-anything"},
                                  {"Proxy-Authorization", "Basic x"},
                                  {"Keep-Alive", "timeout=5"},
                                  {"TE", "trailers"},
                                  {"Upgrade", "h2c"},
                                  {"SIGN-IN-WITH-X", "forged"},
                                  {"X-Custom", "kept"}});
    REQUIRE(reply.status == 200);
    CHECK(json::parse(reply.body)["choices"][0]["message"]["content"] == "Hello!");
    CHECK_FALSE(reply.header("x-request-id").empty());

    auto seen = router.requests();
    REQUIRE(seen.size() == 1);
    const auto& upstream = seen[0];
    CHECK(upstream.path == "/api/v1/chat/completions");
    CHECK(upstream.body == chat_body);
    for (const char* dropped :
         {"Authorization", "Proxy-Authorization", "Keep-Alive", "TE", "Upgrade", "Connection"}) {
        CAPTURE(dropped);
        CHECK(upstream.headers.count(dropped) == 0);
    }
    CHECK(upstream.headers.count("SIGN-IN-WITH-X") == 1);
    CHECK(upstream.headers.find("X-Custom")->second == "kept");
    CHECK(upstream.headers.find("Content-Type")->second == "application/json");
    REQUIRE(upstream.siwx.valid);
    CHECK(upstream.siwx.message.address == test::rfc8032_address);
    CHECK(upstream.siwx.message.domain == "127.0.0.1:" + std::to_string(router.port()));
    CHECK(upstream.siwx.message.uri == router.url() + "/api/v1/chat/completions");
    CHECK(upstream.siwx.message.chain_id == crypto::mainnet_chain_id);
}

TEST_CASE("each OpenAI endpoint goes to the same path under /api/v1, query included",
          "[proxy][forward]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    for (std::string rest : {"/chat/completions", "/completions", "/embeddings"}) {
        auto reply = test::http_post(proxy.port(), "/v1" + rest + "?trace=1", R"({"model":"m"})");
        CHECK(reply.status == 200);
        auto seen = router.requests().back();
        CHECK(seen.path == "/api/v1" + rest);
        CHECK(seen.query == "trace=1");
        CHECK(seen.siwx.valid);
        CHECK(seen.siwx.message.uri == router.url() + "/api/v1" + rest + "?trace=1");
    }
}

TEST_CASE("every request gets its own signature, and any client key is accepted",
          "[proxy][forward]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    for (const char* key : {"Bearer aimo-local", "Bearer x", ""}) {
        httplib::Headers headers;
        if (*key) {
            headers.emplace("Authorization", key);
        }
        CHECK(test::http_post(proxy.port(), "/v1/chat/completions", chat_body, headers).status ==
              200);
    }
    auto seen = router.requests();
    REQUIRE(seen.size() == 3);
    for (const auto& r : seen) {
        CHECK(r.siwx.valid);
    }
}

TEST_CASE("upstream error statuses pass through unchanged", "[proxy][errors]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    for (int status : {400, 401, 402, 403, 404, 422, 429, 500, 503}) {
        std::string body = R"({"error":{"message":"router says )" + std::to_string(status) +
                           R"(","type":"x","code":"y"}})";
        router.on_completion = [&](const httplib::Request&, httplib::Response& res) {
            res.status = status;
            if (status == 429 || status == 503) {
                res.set_header("Retry-After", "7");
            }
            res.set_content(body, "application/json");
        };
        auto reply = test::http_post(proxy.port(), "/v1/chat/completions", chat_body);
        CHECK(reply.status == status);
        CHECK(reply.body == body);
        if (status == 429 || status == 503) {
            CHECK(reply.header("Retry-After") == "7");
        }
    }
    check_healthy(proxy.port());
}

TEST_CASE("an upstream header with a bare line break is dropped, never split in two",
          "[proxy][errors]") {
    // A header value carrying "\n" would otherwise end the line early and smuggle a header of
    // the upstream's choosing into the client's response.
    test::ScriptedServer router([](int fd, int) {
        while (!test::ScriptedServer::read_request(fd).empty()) {
            test::ScriptedServer::write_all(fd,
                                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                            "X-Evil: a\nSet-Cookie: smuggled=1\r\nX-Fine: kept\r\n"
                                            "Content-Length: 2\r\n\r\n{}");
        }
    });
    test::ProxyFixture proxy(router.url());
    auto reply = test::http_post(proxy.port(), "/v1/chat/completions", chat_body);
    CHECK(reply.status == 200);
    CHECK(reply.body == "{}");
    CHECK(reply.header("X-Fine") == "kept");
    CHECK(reply.header("X-Evil").empty());
    CHECK(reply.header("Set-Cookie").empty());
    check_healthy(proxy.port());
}

TEST_CASE("an unreachable router is a 502 naming it", "[proxy][errors]") {
    std::string dead_url;
    {
        test::FakeRouter gone;
        dead_url = gone.url();
    }
    test::ProxyFixture proxy(dead_url);
    auto reply = test::http_post(proxy.port(), "/v1/chat/completions", chat_body);
    CHECK(reply.status == 502);
    auto error = json::parse(reply.body)["error"];
    CHECK(error["code"] == "upstream_unreachable");
    CHECK(error["type"] == "upstream_error");
    CHECK_THAT(error["message"].get<std::string>(), Contains(dead_url));
    check_healthy(proxy.port());
}

TEST_CASE("a router that does not answer in time is a 504", "[proxy][errors]") {
    test::FakeRouter router;
    router.on_completion = [&](const httplib::Request&, httplib::Response& res) {
        router.wait_gate();
        res.set_content("{}", "application/json");
    };
    test::ProxyFixtureOptions options;
    options.timeouts.read = std::chrono::milliseconds(300);
    test::ProxyFixture proxy(router.url(), options);
    auto reply = test::http_post(proxy.port(), "/v1/chat/completions", chat_body);
    router.open_gate();
    CHECK(reply.status == 504);
    auto error = json::parse(reply.body)["error"];
    CHECK(error["code"] == "upstream_timeout");
    CHECK_THAT(error["message"].get<std::string>(), Contains(router.url()));
    check_healthy(proxy.port());
}

TEST_CASE("malformed client JSON is a 400 and never reaches the router", "[proxy][errors]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    for (const char* body : {"{\"model\": ", "not json", "", "[1,2]"}) {
        auto reply = test::http_post(proxy.port(), "/v1/chat/completions", body);
        CHECK(reply.status == 400);
        auto error = json::parse(reply.body)["error"];
        CHECK(error["type"] == "invalid_request_error");
        CHECK(error["code"] == "invalid_json");
    }
    CHECK(router.requests().empty());
    check_healthy(proxy.port());
}

TEST_CASE("a body over the limit is a 413", "[proxy][errors]") {
    test::FakeRouter router;
    test::ProxyFixtureOptions options;
    options.max_body_bytes = 4096;
    test::ProxyFixture proxy(router.url(), options);
    std::string big = R"({"model":"m","pad":")" + std::string(8000, 'x') + "\"}";
    auto reply = test::http_post(proxy.port(), "/v1/chat/completions", big);
    CHECK(reply.status == 413);
    auto error = json::parse(reply.body)["error"];
    CHECK(error["code"] == "request_too_large");
    CHECK_THAT(error["message"].get<std::string>(), Contains("4096"));
    CHECK(router.requests().empty());
    check_healthy(proxy.port());
}

TEST_CASE("the access log has one line per request and never the prompt", "[proxy][log]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    auto reply = test::http_post(proxy.port(), "/v1/chat/completions", chat_body);
    REQUIRE(reply.status == 200);
    REQUIRE(test::http_get(proxy.port(), "/nope").status == 404);
    std::string log = proxy.stop_and_log();
    CHECK_THAT(log, Contains("POST /v1/chat/completions model=deepseek/deepseek-v3.2 status=200"));
    CHECK_THAT(log, Contains(reply.header("x-request-id")));
    CHECK_THAT(log, Contains("upstream_us=") && Contains("overhead_us="));
    CHECK_THAT(log, Contains("GET /nope model=- status=404"));
    CHECK(log.find("secret prompt") == std::string::npos);
    CHECK(log.find("Hello!") == std::string::npos);
    CHECK(std::count(log.begin(), log.end(), '\n') == 2);
}

TEST_CASE("the access log can be JSON", "[proxy][log]") {
    test::FakeRouter router;
    test::ProxyFixtureOptions options;
    options.log_format = proxy::LogFormat::json;
    test::ProxyFixture proxy(router.url(), options);
    REQUIRE(test::http_post(proxy.port(), "/v1/chat/completions", chat_body).status == 200);
    auto line = json::parse(proxy.stop_and_log());
    CHECK(line["method"] == "POST");
    CHECK(line["path"] == "/v1/chat/completions");
    CHECK(line["model"] == "deepseek/deepseek-v3.2");
    CHECK(line["status"] == 200);
    CHECK(line["bytes"].get<int>() > 0);
    CHECK(line["upstream_us"].get<long long>() >= 0);
    CHECK(line["overhead_us"].get<long long>() >= 0);
}
