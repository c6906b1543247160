// Dispatch against in-memory upstreams: retries, backoff, Retry-After, fallbacks, timeouts and
// circuit breakers, without a socket.
#include "memory_upstream.hpp"
#include "openai/request.hpp"
#include "routing/dispatch.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

using namespace aimo;
using test::Canned;
using Clock = std::chrono::steady_clock;

namespace {
struct Setup {
    test::MemoryUpstreams upstreams;
    upstream::ClientPool pool{{}, {}, upstreams.connector()};
    std::shared_ptr<const routing::Table> table;

    explicit Setup(const std::string& extra = "") {
        std::string text;
        for (const char* name : {"flaky", "good", "dead", "slow"}) {
            text += fmt::format("[[providers]]\nname = \"{}\"\nbase_url = \"http://{}.test/v1\"\n"
                                "models = [\"m\", \"other\"]\n{}\n",
                                name, name,
                                std::string(name) == "slow" ? "first_byte_timeout = 0.05" : "");
        }
        text += "[retry]\nattempts = 3\nbackoff_initial = 0.001\nbackoff_max = 0.002\n" + extra;
        routing::RoutingDefaults defaults{upstream::parse_url("http://router.test", "router"), {}};
        table = std::make_shared<const routing::Table>(
            routing::parse_routing_config(text, "config.toml", defaults, {}), nullptr, pool,
            std::chrono::seconds(60));
    }

    // Runs one request for `model` to its end.
    std::shared_ptr<routing::Dispatch> run(const std::string& model) {
        routing::Outgoing out;
        out.rest = "/chat/completions";
        body = R"({"model":")" + model + R"("})";
        out.body = body;
        auto summary = openai::scan_body(body);
        out.model = summary.model;
        out.has_model = summary.has_model;
        out.model_begin = summary.model_begin;
        out.model_end = summary.model_end;
        auto dispatch =
            std::make_shared<routing::Dispatch>(table, table->resolve(model), std::move(out));
        dispatch->advance(std::chrono::seconds(10));
        return dispatch;
    }
    std::string body;
};
} // namespace

TEST_CASE("5xx answers are retried until one succeeds", "[dispatch]") {
    Setup s;
    s.upstreams.script("flaky.test",
                       {Canned::status(500), Canned::status(503), Canned::status(200)});
    auto dispatch = s.run("flaky/m");
    REQUIRE(dispatch->response().status == 200);
    CHECK(dispatch->attempts_text() == "flaky:500,flaky:503,flaky:200");
    CHECK(s.upstreams.sent("flaky.test").size() == 3);
}

TEST_CASE("a client error is the answer and is never retried", "[dispatch]") {
    Setup s;
    s.upstreams.script("flaky.test", {Canned::status(400, R"({"error":{"message":"no"}})")});
    auto dispatch = s.run("flaky/m");
    CHECK(dispatch->response().status == 400);
    CHECK(dispatch->attempts_text() == "flaky:400");
}

TEST_CASE("a route falls back past a dead provider to one that answers", "[dispatch]") {
    Setup s("[[routes]]\nmodel = \"r\"\ntargets = [\"dead/m\", \"good/other\"]\n");
    s.upstreams.script("dead.test", {Canned::refuse(), Canned::refuse(), Canned::refuse()});
    auto dispatch = s.run("r");
    REQUIRE(dispatch->response().status == 200);
    CHECK(dispatch->attempts_text() ==
          "dead:unreachable,dead:unreachable,dead:unreachable,good:200");
    // The fallback target gets the id it knows.
    REQUIRE(s.upstreams.sent("good.test").size() == 1);
    CHECK(s.upstreams.sent("good.test")[0].find(R"("model":"other")") != std::string::npos);
}

TEST_CASE("a 429 waits as long as Retry-After asks", "[dispatch]") {
    Setup s;
    s.upstreams.script("flaky.test", {Canned::status(429, "{}", {"retry-after-ms: 60"})});
    auto start = Clock::now();
    auto dispatch = s.run("flaky/m");
    CHECK(dispatch->response().status == 200);
    CHECK(dispatch->attempts_text() == "flaky:429,flaky:200");
    CHECK(Clock::now() - start >= std::chrono::milliseconds(60));
}

TEST_CASE("a provider that does not start answering in time is a timeout, then a fallback",
          "[dispatch]") {
    Setup s("[[routes]]\nmodel = \"r\"\ntargets = [\"slow/m\", \"good/m\"]\n");
    s.upstreams.script("slow.test", {Canned::silent(), Canned::silent(), Canned::silent()});
    auto dispatch = s.run("r");
    CHECK(dispatch->response().status == 200);
    CHECK(dispatch->attempts_text() == "slow:timeout,slow:timeout,slow:timeout,good:200");
}

TEST_CASE("every attempt failing ends the dispatch with the last failure", "[dispatch]") {
    Setup s;
    s.upstreams.script("dead.test", {Canned::refuse(), Canned::refuse(), Canned::refuse()});
    auto dispatch = s.run("dead/m");
    REQUIRE(dispatch->advance(std::chrono::milliseconds(1)) == routing::Dispatch::State::failed);
    CHECK(dispatch->error().kind() == core::ErrorKind::upstream_unreachable);
    CHECK(std::string(dispatch->error().what()).find("dead.test") != std::string::npos);
}

TEST_CASE("a model's server errors open its circuit, not its provider's", "[dispatch]") {
    Setup s("[breaker]\nfailures = 2\ncooldown = 30\n");
    s.upstreams.script("flaky.test", {Canned::status(500), Canned::status(500)});
    auto failing = s.run("flaky/m");
    CHECK(failing->attempts_text() == "flaky:500,flaky:500");
    auto skipped = s.run("flaky/m");
    CHECK(skipped->advance(std::chrono::milliseconds(1)) == routing::Dispatch::State::failed);
    CHECK(skipped->attempts_text() == "flaky:circuit-open");
    CHECK(skipped->retry_after() > std::chrono::seconds(29));
    auto other = s.run("flaky/other");
    CHECK(other->response().status == 200);
    CHECK(other->attempts_text() == "flaky:200");
}

TEST_CASE("connections refused open the provider's circuit for all its models", "[dispatch]") {
    Setup s("[breaker]\nfailures = 2\ncooldown = 30\n");
    s.upstreams.script("dead.test", {Canned::refuse(), Canned::refuse()});
    s.run("dead/m");
    auto other = s.run("dead/other");
    CHECK(other->attempts_text() == "dead:circuit-open");
    CHECK(s.upstreams.connections() == 2);
}
