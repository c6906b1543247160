// Seeded, bounded fuzzing of the running proxy with byte-mutated raw HTTP: whatever arrives,
// the proxy stays up, answers in well-formed HTTP/1.1, and never blames itself (5xx) for what
// was the client's fault.
#include "core/text.hpp"
#include "fake_router.hpp"
#include "http_helpers.hpp"
#include "mutate.hpp"
#include "proxy_fixture.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <thread>

using namespace aimo;
using nlohmann::json;

namespace {
std::string post(const std::string& path, const std::string& body, const std::string& extra = "") {
    return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
           extra + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::vector<std::string> seeds() {
    std::string chat =
        R"({"model":"deepseek/deepseek-v3.2","messages":[{"role":"user","content":"hi"}],"max_tokens":5})";
    std::string stream =
        R"({"model":"m","stream":true,"messages":[{"role":"user","content":"h\u00e9"}]})";
    return {
        "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /v1/models HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer x\r\n\r\n",
        "GET /v1/models/deepseek%2Fdeepseek-v3.2?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "HEAD /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n",
        post("/v1/chat/completions", chat),
        post("/v1/chat/completions", stream),
        post("/v1/embeddings", R"({"model":"e","input":["a","b"]})", "Expect: 100-continue\r\n"),
        "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
        "9\r\n{\"model\":\r\n5;x=y\r\n\"m\"}\r\n0\r\nT: v\r\n\r\n",
        "GET /health HTTP/1.1\r\n\r\n" + post("/v1/responses", R"({"model":"m","input":"x"})"),
    };
}
} // namespace

TEST_CASE("fuzzed raw requests never bring the proxy down or get a 5xx of its own making",
          "[proxy][fuzz]") {
    auto format = GENERATE(proxy::LogFormat::text, proxy::LogFormat::json);
    test::FakeRouter router; // healthy: any 5xx would be aimo's own
    test::ProxyFixtureOptions options;
    options.log_format = format;
    options.max_body_bytes = 64 * 1024;
    options.header_timeout = std::chrono::milliseconds(500);
    options.body_timeout = std::chrono::milliseconds(500);
    test::ProxyFixture proxy(router.url(), options);

    const auto inputs = seeds();
    const std::string alphabet("\r\n :;,%/?{}\"\\\xff\xc3\x80\x00\t-0189afzZ", 30);
    constexpr int threads = 4;
    constexpr int per_thread = 400;
    std::atomic<int> answered{0};
    std::vector<std::string> failures[threads];
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            std::mt19937 random(1201 + t); // fixed seeds: a failure reproduces
            for (int i = 0; i < per_thread; ++i) {
                auto input = test::mutate(inputs[random() % inputs.size()], random, alphabet);
                auto responses = test::split_responses(test::raw_send_all(proxy.port(), input));
                for (const auto& response : responses) {
                    ++answered;
                    bool own_fault =
                        response.status >= 500 && response.status != 501 && response.status != 505;
                    bool error_json = true;
                    if (response.status >= 400) {
                        try {
                            error_json = json::parse(response.body)["error"]["message"].is_string();
                        } catch (const std::exception&) {
                            error_json = false;
                        }
                    }
                    if (own_fault || !error_json) {
                        failures[t].push_back(core::printable(input) + " -> " +
                                              core::printable(response.head + response.body));
                    }
                }
            }
        });
    }
    for (auto& worker : workers) {
        worker.join();
    }
    for (const auto& list : failures) {
        for (const auto& failure : list) {
            FAIL_CHECK(failure);
        }
    }
    CHECK(answered > threads * per_thread / 2);
    CHECK(test::http_get(proxy.port(), "/health").status == 200);
    auto log = proxy.stop_and_log();
    if (format == proxy::LogFormat::json) {
        for (const auto& line : core::split_list(log, '\n')) {
            CHECK_NOTHROW(json::parse(line));
        }
    }
    CHECK(core::is_utf8(log));
}
