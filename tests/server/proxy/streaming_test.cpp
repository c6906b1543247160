#include "fake_router.hpp"
#include "http_helpers.hpp"
#include "proxy_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace aimo;
using Catch::Matchers::Contains;
using Catch::Matchers::EndsWith;
using Catch::Matchers::StartsWith;
using nlohmann::json;

namespace {
const std::string stream_body =
    R"({"model":"deepseek/deepseek-v3.2","stream":true,"stream_options":{"include_usage":true},)"
    R"("messages":[{"role":"user","content":"hi"}]})";

std::string event(const std::string& content) {
    return "data: " + json{{"choices", {{{"delta", {{"content", content}}}}}}}.dump() + "\n\n";
}
} // namespace

TEST_CASE("a stream is relayed byte for byte, comments and [DONE] included", "[proxy][stream]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    auto reply = test::http_post(proxy.port(), "/v1/chat/completions", stream_body);
    REQUIRE(reply.status == 200);
    CHECK_THAT(reply.header("Content-Type"), StartsWith("text/event-stream"));
    CHECK(reply.body == test::FakeRouter::sse_answer());
    CHECK(router.requests().at(0).siwx.valid);
}

TEST_CASE("stream events reach the client as they arrive, not at the end", "[proxy][stream]") {
    test::FakeRouter router;
    // Only a client that already received "first" can open the gate.
    router.stream_with_gate(event("first"), event("second") + "data: [DONE]\n\n", 10000);
    test::ProxyFixture proxy(router.url());
    auto reply = test::http_post(proxy.port(), "/v1/chat/completions", stream_body, {},
                                 [&](const std::string& piece) {
                                     if (piece.find("first") != std::string::npos) {
                                         router.open_gate();
                                     }
                                     return true;
                                 });
    REQUIRE(reply.status == 200);
    CHECK(router.gate_opened_in_stream());
    CHECK(reply.body == event("first") + event("second") + "data: [DONE]\n\n");
    CHECK(reply.chunks.size() >= 2);
}

TEST_CASE("an upstream dying mid-stream ends with an SSE error event", "[proxy][stream]") {
    test::FakeRouter router;
    bool partial = GENERATE(false, true);
    router.on_completion = [&](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider("text/event-stream", [&](size_t, httplib::DataSink& sink) {
            std::string first = event("first");
            if (partial) {
                first += "data: {\"partial_marker";
            }
            sink.write(first.data(), first.size());
            return false; // abort the connection mid-stream
        });
    };
    test::ProxyFixture proxy(router.url());
    auto reply = test::http_post(proxy.port(), "/v1/chat/completions", stream_body);
    REQUIRE(reply.status == 200);
    CHECK_THAT(reply.body, StartsWith(event("first")));
    CHECK(reply.body.find("[DONE]") == std::string::npos);
    CHECK(reply.body.find("partial_marker") == std::string::npos); // no half event
    auto last_event = reply.body.substr(event("first").size());
    CHECK_THAT(last_event, StartsWith("data: {\"error\":") && EndsWith("\n\n"));
    auto error = json::parse(last_event.substr(6))["error"];
    CHECK(error["code"] == "upstream_stream_interrupted");
    CHECK(test::http_get(proxy.port(), "/health").status == 200);
}

TEST_CASE("a client hanging up mid-stream does not disturb the proxy", "[proxy][stream]") {
    test::FakeRouter router;
    router.stream_with_gate(event("first"), event("second") + "data: [DONE]\n\n", 10000);
    test::ProxyFixture proxy(router.url());
    auto reply = test::http_post(proxy.port(), "/v1/chat/completions", stream_body, {},
                                 [](const std::string&) { return false; });
    CHECK(reply.status == 200);
    router.open_gate();
    CHECK(test::http_get(proxy.port(), "/health").status == 200);
    std::string log = proxy.stop_and_log();
    CHECK_THAT(log, Contains("status=200"));
}
