// Upstream capacity through the real proxy: a provider's max_in_flight holds whatever the
// clients do, the queue is fair across agents, and a request that waits too long is told why.
#include "fake_router.hpp"
#include "governance/agents.hpp"
#include "http_helpers.hpp"
#include "proxy_fixture.hpp"
#include "temp_dir.hpp"
#include "test_server.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <thread>

using namespace aimo;
using namespace aimo::test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
// An upstream that takes `service_ms` per completion and records how many it served at once
// and in which order (by the X-Who header the clients send, which aimo passes on).
struct CountingUpstream {
    int service_ms;
    std::atomic<int> now{0};
    std::atomic<int> most{0};
    std::mutex mutex;
    std::vector<std::string> order;
    std::unique_ptr<TestServer> server;
    explicit CountingUpstream(int service) : service_ms(service) {
        auto http = std::make_unique<httplib::Server>();
        http->new_task_queue = [] { return new httplib::ThreadPool(64); };
        http->Post(
            "/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
                int at_once = ++now;
                int seen = most.load();
                while (at_once > seen && !most.compare_exchange_weak(seen, at_once)) {
                }
                {
                    std::lock_guard lock(mutex);
                    order.push_back(req.get_header_value("X-Who"));
                }
                // Simulated upstream service time, not test synchronisation.
                std::this_thread::sleep_for(std::chrono::milliseconds(service_ms));
                --now;
                res.set_content(R"({"object":"chat.completion","choices":[{"index":0,"message":)"
                                R"({"role":"assistant","content":"ok"},"finish_reason":"stop"}]})",
                                "application/json");
            });
        server = std::make_unique<TestServer>(std::move(http));
    }
};

struct Setup {
    FakeRouter router;
    TempDir dir;
    std::map<std::string, std::string> tokens;
    explicit Setup(std::vector<std::string> agents) {
        governance::Database db(dir / "aimo.db");
        for (const auto& name : agents) {
            tokens[name] = governance::AgentStore(db).create(name, {}, "2026-12-01T00:00:00Z");
        }
    }
    ProxyFixtureOptions options(const CountingUpstream& upstream, const std::string& extra) {
        ProxyFixtureOptions o;
        o.config = fmt::format("[[providers]]\nname = \"acct\"\nbase_url = \"{}/v1\"\n"
                               "models = [\"m\"]\n{}",
                               upstream.server->url(), extra);
        o.database = dir / "aimo.db";
        o.cache.mode = cache::Mode::off;
        return o;
    }
    Reply ask(int port, const std::string& agent, const std::string& who) {
        return http_post(port, "/v1/chat/completions",
                         R"({"model":"acct/m","messages":[{"role":"user","content":"hi"}]})",
                         {{"Authorization", "Bearer " + tokens[agent]}, {"X-Who", who}}, {}, 60);
    }
};

// Waits (bounded) until `ready` holds: a readiness check on the proxy's own state.
bool eventually(const std::function<bool()>& ready) {
    for (int i = 0; i < 2000; ++i) {
        if (ready()) {
            return true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}
} // namespace

TEST_CASE("200 requests from 4 agents never put more than max_in_flight upstream at once",
          "[sched]") {
    CountingUpstream upstream(5);
    Setup s({"a", "b", "c", "d"});
    ProxyFixture proxy(s.router.url(), s.options(upstream, "max_in_flight = 4\n"));
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int client = 0; client < 16; ++client) {
        clients.emplace_back([&, client] {
            std::string agent(1, static_cast<char>('a' + client % 4));
            for (int i = 0; i < 200 / 16 + (client < 200 % 16 ? 1 : 0); ++i) {
                ok += s.ask(proxy.port(), agent, agent).status == 200 ? 1 : 0;
            }
        });
    }
    for (auto& client : clients) {
        client.join();
    }
    CHECK(ok == 200);
    CHECK(upstream.most <= 4);
    CHECK(upstream.most >= 2); // the limit was reached for, not avoided
    CHECK(proxy.scheduler().in_flight("acct") == 0);
    CHECK(proxy.scheduler().queued("acct") == 0);
}

TEST_CASE("one agent's flood delays another agent's requests by one turn each, not by the flood",
          "[sched]") {
    CountingUpstream upstream(15);
    Setup s({"flood", "single"});
    ProxyFixture proxy(s.router.url(), s.options(upstream, "max_in_flight = 1\n"));
    std::vector<std::thread> clients;
    for (int i = 0; i < 40; ++i) {
        clients.emplace_back([&] { s.ask(proxy.port(), "flood", "A"); });
    }
    REQUIRE(eventually([&] { return proxy.scheduler().queued("acct") >= 30; }));
    auto gauges = http_get(proxy.port(), "/metrics").body;
    CHECK_THAT(gauges, Contains("aimo_queue_depth{provider=\"acct\",agent=\"flood\"} ") &&
                           Contains("aimo_upstream_in_flight{provider=\"acct\"} 1"));
    for (int i = 0; i < 5; ++i) {
        clients.emplace_back([&] { CHECK(s.ask(proxy.port(), "single", "B").status == 200); });
    }
    for (auto& client : clients) {
        client.join();
    }
    REQUIRE(upstream.order.size() == 45);
    size_t last_b = 0;
    size_t first_b = upstream.order.size();
    for (size_t i = 0; i < upstream.order.size(); ++i) {
        if (upstream.order[i] == "B") {
            last_b = i;
            first_b = std::min(first_b, i);
        }
    }
    // B's five went out within about ten turns of its first, alternating with A's, while A
    // still had twenty and more waiting.
    CHECK(last_b - first_b <= 14); // ten turns, and slack for threads that start late
    CHECK(last_b < 30);            // first come, first served would put them at 40 to 44
    CHECK(upstream.most == 1);
}

TEST_CASE("a request that waits past queue_timeout gets 429 saying it waited in aimo's queue",
          "[sched]") {
    CountingUpstream upstream(1500);
    Setup s({"a"});
    ProxyFixture proxy(s.router.url(),
                       s.options(upstream, "max_in_flight = 1\nqueue_timeout = 0.2\n"));
    std::thread first([&] { CHECK(s.ask(proxy.port(), "a", "1").status == 200); });
    REQUIRE(eventually([&] { return proxy.scheduler().in_flight("acct") == 1; }));
    auto waited = s.ask(proxy.port(), "a", "2");
    first.join();
    CHECK(waited.status == 429);
    CHECK(waited.header("Retry-After") == "1");
    auto error = json::parse(waited.body)["error"];
    CHECK(error["code"] == "queue_timeout");
    CHECK(error["type"] == "rate_limit_error");
    CHECK_THAT(error["message"].get<std::string>(), Contains("aimo's queue") && Contains("acct"));
    CHECK(upstream.order.size() == 1); // the one that timed out never went upstream
    auto metrics = http_get(proxy.port(), "/metrics");
    CHECK_THAT(metrics.body,
               Contains("code=\"queue_timeout\"") && Contains("aimo_queue_wait_seconds_count 2"));
}
