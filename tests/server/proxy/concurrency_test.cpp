#include "fake_router.hpp"
#include "http_helpers.hpp"
#include "proxy_fixture.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

using namespace aimo;
using nlohmann::json;

TEST_CASE("256 open streams do not starve health checks or short requests",
          "[proxy][concurrency]") {
    test::FakeRouter router;
    router.on_completion = [&](const httplib::Request& req, httplib::Response& res) {
        if (json::parse(req.body).value("stream", false)) {
            res.set_chunked_content_provider("text/event-stream",
                                             [&](size_t, httplib::DataSink& sink) {
                                                 std::string first = "data: {\"n\":1}\n\n";
                                                 sink.write(first.data(), first.size());
                                                 router.wait_gate(30000);
                                                 std::string done = "data: [DONE]\n\n";
                                                 sink.write(done.data(), done.size());
                                                 sink.done();
                                                 return true;
                                             });
            return;
        }
        res.set_content(R"({"ok":true})", "application/json");
    };
    test::ProxyFixture proxy(router.url());

    constexpr int streams = 256;
    std::atomic<int> completed{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < streams; ++i) {
        clients.emplace_back([&] {
            auto reply = test::http_post(proxy.port(), "/v1/chat/completions",
                                         R"({"model":"m","stream":true})", {}, {}, 60);
            if (reply.status == 200 && reply.body.find("[DONE]") != std::string::npos) {
                ++completed;
            }
        });
    }
    bool all_open = router.wait_waiting(streams, 60000);
    CHECK(all_open);

    auto health = test::http_get(proxy.port(), "/health", {}, 5);
    CHECK(health.status == 200);
    auto short_reply =
        test::http_post(proxy.port(), "/v1/chat/completions", R"({"model":"m"})", {}, {}, 5);
    CHECK(short_reply.status == 200);
    CHECK(short_reply.body == R"({"ok":true})");

    router.open_gate();
    for (auto& client : clients) {
        client.join();
    }
    CHECK(completed == streams);
}

TEST_CASE("upstream connections are kept alive and reused", "[proxy][concurrency]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    for (int i = 0; i < 20; ++i) {
        REQUIRE(test::http_post(proxy.port(), "/v1/chat/completions", R"({"model":"m"})").status ==
                200);
        REQUIRE(
            test::http_post(proxy.port(), "/v1/chat/completions", R"({"model":"m","stream":true})")
                .status == 200);
    }
    CHECK(router.count("/api/v1/chat/completions") == 40);
    CHECK(router.connections() == 1);
    CHECK(proxy.pool.connections_opened() == 1);
}

TEST_CASE("clients can send many requests on one connection", "[proxy][concurrency]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    test::RawConnection connection(proxy.port());
    for (int i = 0; i < 50; ++i) {
        std::string body = R"({"model":"m"})";
        std::string request = i % 2 == 0
                                  ? "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n"
                                  : "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n"
                                    "Content-Type: application/json\r\nContent-Length: " +
                                        std::to_string(body.size()) + "\r\n\r\n" + body;
        auto response = connection.request(request);
        REQUIRE(response.rfind("HTTP/1.1 200 OK", 0) == 0);
    }
}
