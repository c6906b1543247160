// Retries, Retry-After, fallbacks, the circuit breaker, timeouts and keep-alives, against a
// flaky, a slow and a dead upstream.
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
using Catch::Matchers::StartsWith;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {
long long ms_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

Scripted status(int code, httplib::Headers headers = {}) {
    Scripted answer;
    answer.status = code;
    answer.headers = std::move(headers);
    answer.body =
        fmt::format(R"({{"error":{{"message":"scripted {}","code":"c{}"}}}})", code, code);
    return answer;
}

// flaky, slow and a dead port as providers; `extra` appends tables ([retry], routes …).
struct Upstreams {
    FakeUpstream flaky{"flaky"};
    FakeUpstream slow{"slow"};
    FakeUpstream good{"good"};
    int dead = refused_port();

    std::string config(const std::string& extra, const std::string& slow_timeouts = "") const {
        return fmt::format(R"(
[[providers]]
name = "flaky"
base_url = "{}"
models = ["m"]

[[providers]]
name = "slow"
base_url = "{}"
models = ["m"]
{}

[[providers]]
name = "good"
base_url = "{}"
models = ["m"]

[[providers]]
name = "dead"
base_url = "http://127.0.0.1:{}/v1"
models = ["m"]

[retry]
attempts = 3
backoff_initial = 0.01
backoff_max = 0.02
{}
)",
                           flaky.base_url(), slow.base_url(), slow_timeouts, good.base_url(), dead,
                           extra);
    }
};

ProxyFixtureOptions with(const std::string& config, int keepalive_ms = 0) {
    ProxyFixtureOptions options;
    options.config = config;
    options.stream_keepalive = std::chrono::milliseconds(keepalive_ms);
    return options;
}
} // namespace

TEST_CASE("429 and 5xx are retried until one attempt succeeds", "[resilience]") {
    Upstreams u;
    ProxyFixture proxy("http://127.0.0.1:1", with(u.config("")));
    u.flaky.script({status(503), status(429)});
    auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("flaky/m"));
    CHECK(reply.status == 200);
    CHECK(reply.header("x-aimo-attempts") == "flaky:503,flaky:429,flaky:200");
    CHECK(reply.header("x-aimo-provider") == "flaky");
    CHECK(u.flaky.count() == 3);
    CHECK_THAT(proxy.stop_and_log(), Contains("attempts=flaky:503,flaky:429,flaky:200"));
}

TEST_CASE("when attempts run out the last answer is passed through", "[resilience]") {
    Upstreams u;
    ProxyFixture proxy("http://127.0.0.1:1", with(u.config("")));
    u.flaky.set_default(status(502, {{"Retry-After", "0"}}));
    auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("flaky/m"));
    CHECK(reply.status == 502);
    CHECK_THAT(reply.body, Contains("scripted 502"));
    CHECK(reply.header("Retry-After") == "0");
    CHECK(u.flaky.count() == 3);
}

TEST_CASE("client errors are never retried", "[resilience]") {
    for (int code : {400, 401, 402, 403, 404, 422}) {
        Upstreams u;
        ProxyFixture proxy("http://127.0.0.1:1",
                           with(u.config("[[routes]]\nmodel = \"r\"\ntargets = [\"flaky/m\", "
                                         "\"good/m\"]\n")));
        u.flaky.set_default(status(code));
        auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("r"));
        INFO(code);
        CHECK(reply.status == code);
        CHECK_THAT(reply.body, Contains(fmt::format("scripted {}", code)));
        CHECK(u.flaky.count() == 1);
        CHECK(u.good.count() == 0); // no fallback either: the request itself is wrong
        CHECK(reply.header("x-aimo-attempts") == fmt::format("flaky:{}", code));
    }
}

TEST_CASE("Retry-After is honoured in seconds, as a date and as retry-after-ms", "[resilience]") {
    Upstreams u;
    ProxyFixture proxy("http://127.0.0.1:1", with(u.config("")));

    u.flaky.script({status(429, {{"Retry-After", "1"}})});
    auto start = Clock::now();
    CHECK(http_post(proxy.port(), "/v1/chat/completions", chat_body("flaky/m")).status == 200);
    CHECK(ms_since(start) >= 1000);

    u.flaky.script({status(503, {{"retry-after-ms", "300"}, {"Retry-After", "9"}})});
    start = Clock::now();
    CHECK(http_post(proxy.port(), "/v1/chat/completions", chat_body("flaky/m")).status == 200);
    auto waited = ms_since(start);
    CHECK(waited >= 300); // the precise header wins over the coarse one
    CHECK(waited < 3000);

    // An HTTP date two seconds ahead (whole seconds, so at least one second away).
    auto when = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                     std::chrono::seconds(2));
    std::tm tm{};
    gmtime_r(&when, &tm);
    char date[64];
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    u.flaky.script({status(429, {{"Retry-After", date}})});
    start = Clock::now();
    CHECK(http_post(proxy.port(), "/v1/chat/completions", chat_body("flaky/m")).status == 200);
    CHECK(ms_since(start) >= 900);
}

TEST_CASE("a Retry-After beyond the cap is not waited for: fall back or pass it through",
          "[resilience]") {
    Upstreams u;
    ProxyFixture proxy("http://127.0.0.1:1",
                       with(u.config("retry_after_max = 1\n\n[[routes]]\nmodel = \"r\"\ntargets "
                                     "= [\"flaky/m\", \"good/m\"]\n")));
    u.flaky.set_default(status(429, {{"Retry-After", "120"}}));
    auto start = Clock::now();
    auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("r"));
    CHECK(ms_since(start) < 1000);
    CHECK(reply.status == 200);
    CHECK(reply.header("x-aimo-attempts") == "flaky:429,good:200");

    // The provider asked for 120 s: a request to it alone is told so at once, not queued.
    start = Clock::now();
    auto alone = http_post(proxy.port(), "/v1/chat/completions", chat_body("flaky/m"));
    CHECK(ms_since(start) < 1000);
    CHECK(alone.status == 429);
    CHECK(alone.header("Retry-After") == "120");
    CHECK(alone.header("x-aimo-attempts") == "flaky:held");
    CHECK(u.flaky.count() == 1);
    CHECK_THAT(http_get(proxy.port(), "/metrics").body,
               Contains("aimo_upstream_held_seconds{provider=\"flaky\"} 11") ||
                   Contains("aimo_upstream_held_seconds{provider=\"flaky\"} 12"));
}

TEST_CASE("no retry starts after the deadline, however long Retry-After allows", "[resilience]") {
    Upstreams u;
    ProxyFixture proxy("http://127.0.0.1:1",
                       with(u.config("deadline = 0.5\n\n[[routes]]\nmodel = \"r\"\ntargets = "
                                     "[\"flaky/m\", \"good/m\"]\n")));
    // Retry-After: 1 is under retry_after_max (30 s) but would end past the 0.5 s deadline.
    u.flaky.set_default(status(503, {{"Retry-After", "1"}}));
    auto start = Clock::now();
    auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("r"));
    CHECK(ms_since(start) < 900);
    CHECK(reply.header("x-aimo-attempts") == "flaky:503,good:200");

    // A request to it alone first waits out the second the provider asked for (everyone's
    // wait, not a retry), makes one attempt, and does not retry past its deadline.
    start = Clock::now();
    auto alone = http_post(proxy.port(), "/v1/chat/completions", chat_body("flaky/m"));
    CHECK(ms_since(start) >= 900);
    CHECK(ms_since(start) < 1900);
    CHECK(alone.status == 503);
    CHECK(u.flaky.count() == 2);
}

TEST_CASE("a route falls back in order past dead and failing providers", "[resilience]") {
    Upstreams u;
    ProxyFixture proxy(
        "http://127.0.0.1:1",
        with(u.config(
            "[[routes]]\nmodel = \"r\"\ntargets = [\"dead/m\", \"flaky/m\", \"good/m\"]\n")));
    u.flaky.set_default(status(500));
    auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("r"));
    CHECK(reply.status == 200);
    CHECK(reply.header("x-aimo-provider") == "good");
    CHECK(reply.header("x-aimo-attempts") ==
          "dead:unreachable,dead:unreachable,dead:unreachable,flaky:500,flaky:500,flaky:500,"
          "good:200");
    CHECK(json::parse(u.good.requests().at(0).body)["model"] == "m");
}

TEST_CASE("the circuit breaker skips a failing provider, then probes it again", "[resilience]") {
    Upstreams u;
    ProxyFixture proxy("http://127.0.0.1:1",
                       with(u.config("\n[breaker]\nfailures = 2\ncooldown = 0.3\n\n[[routes]]\n"
                                     "model = \"r\"\ntargets = [\"flaky/m\", \"good/m\"]\n")));
    u.flaky.set_default(status(503));
    // Two failures open the circuit (the second attempt already sees it open).
    auto first = http_post(proxy.port(), "/v1/chat/completions", chat_body("r"));
    CHECK(first.header("x-aimo-attempts") == "flaky:503,flaky:503,good:200");
    auto second = http_post(proxy.port(), "/v1/chat/completions", chat_body("r"));
    CHECK(second.header("x-aimo-attempts") == "flaky:circuit-open,good:200");
    CHECK(u.flaky.count() == 2);

    // Alone, with the circuit open: 503 with the time until the next probe.
    auto alone = http_post(proxy.port(), "/v1/chat/completions", chat_body("flaky/m"));
    CHECK(alone.status == 503);
    CHECK(json::parse(alone.body)["error"]["code"] == "provider_unavailable");
    CHECK(alone.header("Retry-After") == "1");
    CHECK(u.flaky.count() == 2);

    // After the cooldown one probe goes through; it succeeds and closes the circuit.
    u.flaky.set_default(Scripted{});
    auto deadline = Clock::now() + std::chrono::seconds(5);
    Reply probe;
    do {
        probe = http_post(proxy.port(), "/v1/chat/completions", chat_body("r"));
    } while (probe.header("x-aimo-provider") != "flaky" && Clock::now() < deadline);
    CHECK(probe.header("x-aimo-attempts") == "flaky:200");
    CHECK(
        http_post(proxy.port(), "/v1/chat/completions", chat_body("r")).header("x-aimo-provider") ==
        "flaky");
}

TEST_CASE("a slow first byte times out and falls back", "[resilience]") {
    Upstreams u;
    ProxyFixture proxy("http://127.0.0.1:1",
                       with(u.config("[[routes]]\nmodel = \"r\"\ntargets = [\"slow/m\", "
                                     "\"good/m\"]\n",
                                     "first_byte_timeout = 0.2")));
    Scripted late;
    late.delay_ms = 1500;
    u.slow.set_default(late);
    auto start = Clock::now();
    auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("r"));
    CHECK(reply.status == 200);
    CHECK(reply.header("x-aimo-attempts") == "slow:timeout,slow:timeout,slow:timeout,good:200");
    CHECK(ms_since(start) < 1400);

    auto alone = http_post(proxy.port(), "/v1/chat/completions", chat_body("slow/m"));
    CHECK(alone.status == 504);
    CHECK_THAT(alone.body, Contains("did not start answering within 0.2 s"));
}

TEST_CASE("a provider that hangs while connecting times out and falls back", "[resilience]") {
    SilentListener hung; // TCP connects, the TLS handshake never completes
    FakeUpstream good("good");
    ProxyFixture proxy("http://127.0.0.1:1", with(fmt::format(R"(
[[providers]]
name = "hung"
base_url = "https://127.0.0.1:{}/v1"
models = ["m"]
connect_timeout = 0.2

[[providers]]
name = "good"
base_url = "{}"
models = ["m"]

[retry]
attempts = 2
backoff_initial = 0.01

[[routes]]
model = "r"
targets = ["hung/m", "good/m"]
)",
                                                              hung.port(), good.base_url())));
    auto start = Clock::now();
    auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("r"));
    CHECK(reply.status == 200);
    CHECK(reply.header("x-aimo-attempts") == "hung:timeout,hung:timeout,good:200");
    CHECK(ms_since(start) < 1500);

    auto alone = http_post(proxy.port(), "/v1/chat/completions", chat_body("hung/m"));
    CHECK(alone.status == 504);
    CHECK_THAT(alone.body, Contains("127.0.0.1:" + std::to_string(hung.port())));
}

TEST_CASE("once bytes reached the client a failure is an SSE error, never a retry",
          "[resilience]") {
    Upstreams u;
    ProxyFixture proxy("http://127.0.0.1:1",
                       with(u.config("[[routes]]\nmodel = \"r\"\ntargets = [\"slow/m\", "
                                     "\"good/m\"]\n",
                                     "idle_timeout = 0.2")));
    Scripted stalls;
    stalls.sse = FakeUpstream::sse_events("partial");
    stalls.gap_ms = 800;
    u.slow.set_default(stalls);
    auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("r", true));
    CHECK(reply.status == 200);
    CHECK_THAT(reply.body, StartsWith("data: {") && Contains("partial"));
    CHECK_THAT(reply.body,
               Contains("upstream_stream_interrupted") && Contains("sent nothing for 0.2 s"));
    CHECK_THAT(reply.body, !Contains("[DONE]"));
    CHECK(u.slow.count() == 1);
    CHECK(u.good.count() == 0);
}

TEST_CASE("a total timeout ends a stream that never finishes", "[resilience]") {
    Upstreams u;
    ProxyFixture proxy("http://127.0.0.1:1", with(u.config("", "total_timeout = 0.3")));
    Scripted dribble;
    for (int i = 0; i < 40; ++i) {
        dribble.sse.push_back("data: {\"n\":" + std::to_string(i) + "}\n\n");
    }
    dribble.gap_ms = 50;
    u.slow.set_default(dribble);
    auto start = Clock::now();
    auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("slow/m", true));
    CHECK(ms_since(start) < 1500);
    CHECK_THAT(reply.body, Contains("\"n\":0") && Contains("within the total timeout"));
}

TEST_CASE("a stream waiting for its first byte gets SSE keep-alive comments", "[resilience]") {
    Upstreams u;
    ProxyFixture proxy("http://127.0.0.1:1", with(u.config(""), 100));
    Scripted late;
    late.delay_ms = 700;
    late.sse = FakeUpstream::sse_events("late");
    u.slow.set_default(late);
    auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("slow/m", true));
    CHECK(reply.status == 200);
    CHECK(reply.header("Content-Type") == "text/event-stream");
    CHECK_THAT(reply.body, StartsWith(": keep-alive\n\n: keep-alive\n\n"));
    CHECK_THAT(reply.body, Contains("late") && Contains("data: [DONE]\n\n"));
    // The access log still names the provider, known only after the stream began.
    CHECK_THAT(proxy.stop_and_log(), Contains("provider=slow attempts=slow:200"));
}

TEST_CASE("after keep-alives an upstream error arrives as an SSE error event", "[resilience]") {
    Upstreams u;
    ProxyFixture proxy("http://127.0.0.1:1", with(u.config(""), 100));
    Scripted refused = status(401);
    refused.delay_ms = 500;
    u.slow.set_default(refused);
    auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("slow/m", true));
    CHECK(reply.status == 200);
    CHECK_THAT(reply.body, StartsWith(": keep-alive\n\n"));
    CHECK_THAT(reply.body, Contains("data: {\"error\":{\"message\":\"scripted 401\""));
    CHECK(u.slow.count() == 1);

    // Quick answers never see a keep-alive, and keep their status.
    u.good.set_default(status(404));
    auto quick = http_post(proxy.port(), "/v1/chat/completions", chat_body("good/m", true));
    CHECK(quick.status == 404);
}

TEST_CASE("one model's server errors open its own circuit, not the provider's", "[resilience]") {
    FakeRouter router; // plain router mode: one provider, every model behind it
    router.on_completion = [](const httplib::Request& req, httplib::Response& res) {
        if (json::parse(req.body)["model"] == "broken") {
            res.status = 500;
            res.set_content(R"({"error":{"message":"model crashed"}})", "application/json");
            return;
        }
        res.set_content(R"({"object":"chat.completion","choices":[]})", "application/json");
    };
    ProxyFixture proxy(router.url());
    for (int i = 0; i < 5; ++i) { // the default breaker opens after 5 failures
        CHECK(http_post(proxy.port(), "/v1/chat/completions", chat_body("broken")).status == 500);
    }
    auto open = http_post(proxy.port(), "/v1/chat/completions", chat_body("broken"));
    CHECK(open.status == 503);
    CHECK(open.header("x-aimo-attempts") == "aimo:circuit-open");
    // Every other model behind the same provider keeps working.
    for (const char* model : {"healthy", "deepseek/deepseek-v3.2", "other"}) {
        INFO(model);
        CHECK(http_post(proxy.port(), "/v1/chat/completions", chat_body(model)).status == 200);
    }
    CHECK(router.count("/api/v1/chat") == 8);
}

TEST_CASE("a provider that cannot be reached opens the provider's circuit for every model",
          "[resilience]") {
    int dead = refused_port();
    ProxyFixture proxy("http://127.0.0.1:" + std::to_string(dead));
    for (int i = 0; i < 5; ++i) {
        CHECK(http_post(proxy.port(), "/v1/chat/completions", chat_body("m" + std::to_string(i)))
                  .status == 502);
    }
    auto other = http_post(proxy.port(), "/v1/chat/completions", chat_body("never-tried"));
    CHECK(other.status == 503);
    CHECK(other.header("x-aimo-attempts") == "aimo:circuit-open");
}
