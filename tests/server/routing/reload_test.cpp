// Live reload: new requests use the new config, requests in flight finish on the old one, and a
// bad config is refused while the old one keeps serving.
#include "fake_upstream.hpp"
#include "http_helpers.hpp"
#include "proxy_fixture.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <future>
#include <nlohmann/json.hpp>

using namespace aimo;
using namespace aimo::test;
using Catch::Matchers::Contains;

namespace {
std::string config(const FakeUpstream& one, const FakeUpstream& two, const std::string& target) {
    return fmt::format(R"(
[[providers]]
name = "one"
base_url = "{}"
models = ["m"]

[[providers]]
name = "two"
base_url = "{}"
models = ["m"]

[aliases]
agent = "{}"
)",
                       one.base_url(), two.base_url(), target);
}
} // namespace

TEST_CASE("reloading under load fails no request and switches new requests", "[reload]") {
    FakeUpstream one("one");
    FakeUpstream two("two");
    ProxyFixtureOptions options;
    options.config = config(one, two, "one/m");
    ProxyFixture proxy("http://127.0.0.1:1", options);

    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::atomic<int> done{0};
    std::vector<std::future<void>> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(std::async(std::launch::async, [&] {
            while (!stop) {
                auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("agent"));
                if (reply.status != 200) {
                    ++failures;
                }
                ++done;
            }
        }));
    }
    for (int i = 0; i < 20; ++i) {
        CHECK(proxy.reload(config(one, two, i % 2 == 0 ? "two/m" : "one/m")).empty());
        CHECK_THAT(proxy.reload("[[providers]]\nname = \"broken\"\n"), Contains("has no base_url"));
        int seen = done;
        while (done < seen + 5) {
            std::this_thread::yield(); // let some requests through on this config
        }
    }
    stop = true;
    for (auto& client : clients) {
        client.get();
    }
    CHECK(failures == 0);
    CHECK(one.count() > 0);
    CHECK(two.count() > 0);

    // The last good config (i = 19: "one/m") serves; the broken one never took over.
    auto before = one.count();
    auto reply = http_post(proxy.port(), "/v1/chat/completions", chat_body("agent"));
    CHECK(reply.status == 200);
    CHECK(reply.header("x-aimo-provider") == "one");
    CHECK(one.count() == before + 1);
}

TEST_CASE("a request in flight finishes on the config it started with", "[reload]") {
    FakeUpstream one("one");
    FakeUpstream two("two");
    ProxyFixtureOptions options;
    options.config = config(one, two, "one/m");
    ProxyFixture proxy("http://127.0.0.1:1", options);
    Scripted slow;
    slow.delay_ms = 600;
    one.set_default(slow);
    auto in_flight = std::async(std::launch::async, [&] {
        return http_post(proxy.port(), "/v1/chat/completions", chat_body("agent"));
    });
    while (one.count() == 0) {
        std::this_thread::yield();
    }
    // Provider "one" disappears from the config while its request is running.
    REQUIRE(proxy
                .reload(fmt::format("[[providers]]\nname = \"two\"\nbase_url = \"{}\"\n"
                                    "models = [\"m\"]\n[aliases]\nagent = \"two/m\"\n",
                                    two.base_url()))
                .empty());
    auto after = http_post(proxy.port(), "/v1/chat/completions", chat_body("agent"));
    CHECK(after.header("x-aimo-provider") == "two");
    auto finished = in_flight.get();
    CHECK(finished.status == 200);
    CHECK(finished.header("x-aimo-provider") == "one");
    CHECK_THAT(finished.body, Contains("\"content\":\"one\""));
}
