// Upstream capacity through the real proxy, against an upstream that enforces its own limits:
// a provider's max_in_flight and rpm hold whatever the clients do, the queue is fair across
// agents (and weighted), a 429 storm holds everyone instead of every request retrying, a
// request that waits too long is told why, a client that leaves is gone from the queue at
// once, and a waiting stream says it is queued.
#include "fake_router.hpp"
#include "governance/agents.hpp"
#include "governance/ledger.hpp"
#include "governance/stats.hpp"
#include "http_helpers.hpp"
#include "proxy_fixture.hpp"
#include "temp_dir.hpp"
#include "test_server.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <deque>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace aimo;
using namespace aimo::test;
using Catch::Matchers::Contains;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {
// An upstream that takes `service_ms` per completion and records how many it served at once
// and in which order (by the X-Who header the clients send, which aimo passes on). It
// enforces limits of its own, as a real account does: past `rpm` requests in a sliding
// `window`, or during a storm, it answers 429 with Retry-After and counts the refusal.
struct CountingUpstream {
    int service_ms;
    std::atomic<int> now{0};
    std::atomic<int> most{0};
    std::atomic<int> refused{0};
    std::mutex mutex;
    std::vector<std::string> order;
    std::deque<Clock::time_point> started; ///< within the window
    int rpm = 0;                           ///< 0: no limit
    std::chrono::milliseconds window{1000};
    std::chrono::milliseconds storm{0}; ///< from the first request on, refuse for this long
    Clock::time_point storm_start{};
    int storm_seen = 0; ///< requests that arrived during the storm
    bool usage = false; ///< answers report 5 tokens of usage
    /// Answers say no requests are left for this long (x-ratelimit-remaining-requests: 0).
    std::chrono::milliseconds exhausted_for{0};
    std::unique_ptr<TestServer> server;

    explicit CountingUpstream(int service) : service_ms(service) {
        auto http = std::make_unique<httplib::Server>();
        http->new_task_queue = [] { return new httplib::ThreadPool(64); };
        http->Post("/v1/chat/completions",
                   [this](const httplib::Request& req, httplib::Response& res) {
                       if (auto retry = refusal()) {
                           ++refused;
                           res.status = 429;
                           res.set_header("Retry-After", *retry);
                           res.set_content(R"({"error":{"message":"slow down","type":"rate"}})",
                                           "application/json");
                           return;
                       }
                       serve(req, res);
                   });
        server = std::make_unique<TestServer>(std::move(http));
    }

    // Why this request is refused (its Retry-After), or nothing.
    std::optional<std::string> refusal() {
        std::lock_guard lock(mutex);
        auto at = Clock::now();
        if (storm.count() > 0) {
            if (storm_start == Clock::time_point{}) {
                storm_start = at;
            }
            if (at < storm_start + storm) {
                ++storm_seen;
                return std::to_string((storm.count() + 999) / 1000);
            }
        }
        if (rpm > 0) {
            while (!started.empty() && started.front() + window <= at) {
                started.pop_front();
            }
            if (static_cast<int>(started.size()) >= rpm) {
                return "1";
            }
            started.push_back(at);
        }
        return std::nullopt;
    }

    void serve(const httplib::Request& req, httplib::Response& res) {
        int at_once = ++now;
        int seen = most.load();
        while (at_once > seen && !most.compare_exchange_weak(seen, at_once)) {
        }
        {
            std::lock_guard lock(mutex);
            order.push_back(req.get_header_value("X-Who"));
        }
        // Simulated upstream service time, not test synchronisation (X-Hold-Ms: this one's).
        auto hold = req.get_header_value("X-Hold-Ms");
        std::this_thread::sleep_for(
            std::chrono::milliseconds(hold.empty() ? service_ms : std::stoi(hold)));
        --now;
        if (exhausted_for.count() > 0) {
            res.set_header("x-ratelimit-remaining-requests", "0");
            res.set_header("x-ratelimit-reset-requests",
                           std::to_string(exhausted_for.count()) + "ms");
        }
        if (req.body.find("\"stream\":true") != std::string::npos) {
            res.set_content("data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
                            "\"delta\":{\"content\":\"ok\"}}]}\n\ndata: [DONE]\n\n",
                            "text/event-stream");
            return;
        }
        res.set_content(std::string(R"({"object":"chat.completion","choices":[{"index":0,)") +
                            R"("message":{"role":"assistant","content":"ok"},)" +
                            R"("finish_reason":"stop"}])" +
                            (usage ? R"(,"usage":{"prompt_tokens":3,"completion_tokens":2,)"
                                     R"("total_tokens":5}})"
                                   : "}"),
                        "application/json");
    }
};

struct Setup {
    FakeRouter router;
    TempDir dir;
    std::map<std::string, std::string> tokens;
    explicit Setup(const std::map<std::string, governance::AgentLimits>& agents) {
        governance::Database db(dir / "aimo.db");
        for (const auto& [name, limits] : agents) {
            tokens[name] = governance::AgentStore(db).create(name, limits, "2026-12-01T00:00:00Z");
        }
    }
    // Agents without limits.
    static std::map<std::string, governance::AgentLimits>
    plain(const std::vector<std::string>& names) {
        std::map<std::string, governance::AgentLimits> all;
        for (const auto& name : names) {
            all[name] = {};
        }
        return all;
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
    static constexpr const char* body =
        R"({"model":"acct/m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]})";
    httplib::Headers headers(const std::string& agent, const std::string& who) {
        return {{"Authorization", "Bearer " + tokens[agent]}, {"X-Who", who}};
    }
    Reply ask(int port, const std::string& agent, const std::string& who) {
        return http_post(port, "/v1/chat/completions", body, headers(agent, who), {}, 60);
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

// Runs `count` clients at once, each sending one request; returns how many got 200.
int burst(int count, const std::function<Reply(int)>& send) {
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < count; ++i) {
        clients.emplace_back([&, i] { ok += send(i).status == 200 ? 1 : 0; });
    }
    for (auto& client : clients) {
        client.join();
    }
    return ok;
}
} // namespace

TEST_CASE("200 requests from 4 agents never put more than max_in_flight upstream at once",
          "[sched]") {
    CountingUpstream upstream(5);
    Setup s(Setup::plain({"a", "b", "c", "d"}));
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
    Setup s(Setup::plain({"flood", "single"}));
    ProxyFixture proxy(s.router.url(), s.options(upstream, "max_in_flight = 1\n"));
    std::vector<std::thread> clients;
    for (int i = 0; i < 100; ++i) {
        clients.emplace_back([&] { s.ask(proxy.port(), "flood", "A"); });
    }
    REQUIRE(eventually([&] { return proxy.scheduler().queued("acct") >= 80; }));
    auto gauges = http_get(proxy.port(), "/metrics").body;
    CHECK_THAT(gauges, Contains("aimo_queue_depth{provider=\"acct\",agent=\"flood\"} ") &&
                           Contains("aimo_upstream_in_flight{provider=\"acct\"} 1"));
    // B works like an agent in a conversation: one request, then the next.
    clients.emplace_back([&] {
        for (int i = 0; i < 5; ++i) {
            CHECK(s.ask(proxy.port(), "single", "B").status == 200);
        }
    });
    for (auto& client : clients) {
        client.join();
    }
    REQUIRE(upstream.order.size() == 105);
    size_t last_b = 0;
    size_t first_b = upstream.order.size();
    for (size_t i = 0; i < upstream.order.size(); ++i) {
        if (upstream.order[i] == "B") {
            last_b = i;
            first_b = std::min(first_b, i);
        }
    }
    // Each of B's five waited about one turn, alternating with A's, while A still had
    // seventy and more waiting.
    CHECK(last_b - first_b <= 14); // ten turns, and slack for a client thread that starts late
    CHECK(last_b < 40);            // first come, first served would put them at 100 to 104
    CHECK(upstream.most == 1);

    // The ledger has each request's wait: B's p50 is a few service times, A's the flood's.
    proxy.flush_ledger();
    std::map<std::string, governance::StatsRow> by_agent;
    for (auto& row : governance::stats_since(proxy.db(), "", "agent")) {
        by_agent[row.key] = row;
    }
    CHECK(by_agent["single"].queue_p50_us < 5 * 15'000);
    CHECK(by_agent["flood"].queue_p50_us > 20 * 15'000);
}

TEST_CASE("weights shift the share of a busy provider as configured", "[sched]") {
    CountingUpstream upstream(10);
    governance::AgentLimits heavy;
    heavy.weight = 3;
    Setup s({{"heavy", heavy}, {"light", {}}});
    ProxyFixture proxy(s.router.url(), s.options(upstream, "max_in_flight = 1\n"));
    // One request holds the slot while both agents' floods queue up behind it.
    std::thread first([&] {
        auto headers = s.headers("light", "first");
        headers.emplace("X-Hold-Ms", "1500");
        http_post(proxy.port(), "/v1/chat/completions", Setup::body, headers, {}, 60);
    });
    REQUIRE(eventually([&] { return proxy.scheduler().in_flight("acct") == 1; }));
    std::vector<std::thread> clients;
    for (int i = 0; i < 40; ++i) {
        clients.emplace_back([&] { s.ask(proxy.port(), "heavy", "H"); });
        clients.emplace_back([&] { s.ask(proxy.port(), "light", "L"); });
    }
    REQUIRE(eventually([&] { return proxy.scheduler().queued("acct") == 80; }));
    first.join();
    for (auto& client : clients) {
        client.join();
    }
    REQUIRE(upstream.order.size() == 81);
    // While both waited (the first 40 let out after the first request), weight 3 got three
    // turns to weight 1's one.
    int heavy_turns = 0;
    for (size_t i = 1; i <= 40; ++i) {
        heavy_turns += upstream.order[i] == "H" ? 1 : 0;
    }
    CHECK(heavy_turns >= 28);
    CHECK(heavy_turns <= 32);
}

TEST_CASE("rpm holds requests in aimo's queue instead of letting the upstream refuse them",
          "[sched]") {
    CountingUpstream upstream(1);
    upstream.rpm = 5; // per 1 s window, as aimo's "minute" is in this test
    upstream.window = std::chrono::milliseconds(1000);
    Setup s(Setup::plain({"a", "b"}));
    auto options = s.options(upstream, "rpm = 5\n");
    options.rate_window = std::chrono::milliseconds(1000);
    ProxyFixture proxy(s.router.url(), options);
    auto start = Clock::now();
    int ok = burst(15, [&](int i) { return s.ask(proxy.port(), i % 2 ? "a" : "b", "x"); });
    CHECK(ok == 15);
    CHECK(upstream.refused == 0);
    // The last window's requests are still counted, and /metrics shows them.
    CHECK_THAT(http_get(proxy.port(), "/metrics").body,
               Contains("aimo_upstream_window_requests{provider=\"acct\"} ") &&
                   !Contains("aimo_upstream_window_requests{provider=\"acct\"} 0\n"));
    // Fifteen at five per window: the last five went out in the third window.
    CHECK(Clock::now() - start >= std::chrono::milliseconds(2000));
}

TEST_CASE("tpm holds requests by their estimate until the answers' usage replaces it", "[sched]") {
    CountingUpstream upstream(200);
    upstream.usage = true; // 5 tokens each, against an estimate of about 30
    Setup s(Setup::plain({"a"}));
    auto options = s.options(upstream, "tpm = 70\n");
    options.rate_window = std::chrono::milliseconds(5000);
    ProxyFixture proxy(s.router.url(), options);
    int ok = burst(4, [&](int) { return s.ask(proxy.port(), "a", "x"); });
    CHECK(ok == 4);
    // Two estimates fill the 70; the others went once the first answers said 5 each.
    CHECK(upstream.most <= 2);
    auto states = proxy.scheduler().states();
    REQUIRE(states.size() == 1);
    CHECK(states[0].window_tokens == 20);
}

TEST_CASE("an upstream that says no requests are left holds the next until its reset", "[sched]") {
    CountingUpstream upstream(1);
    upstream.exhausted_for = std::chrono::milliseconds(400);
    Setup s(Setup::plain({"a"}));
    ProxyFixture proxy(s.router.url(), s.options(upstream, ""));
    REQUIRE(s.ask(proxy.port(), "a", "1").status == 200);
    auto start = Clock::now();
    REQUIRE(s.ask(proxy.port(), "a", "2").status == 200);
    CHECK(Clock::now() - start >= std::chrono::milliseconds(350));
    CHECK(upstream.refused == 0);
}

TEST_CASE("a 429 storm holds every request in the queue: no retries reach the upstream meanwhile",
          "[sched]") {
    CountingUpstream upstream(5);
    upstream.storm = std::chrono::milliseconds(2000); // Retry-After: 2
    Setup s(Setup::plain({"a", "b", "c", "d"}));
    ProxyFixture proxy(s.router.url(), s.options(upstream, "max_in_flight = 4\n"));
    auto start = Clock::now();
    int ok = burst(40, [&](int i) {
        std::string agent(1, static_cast<char>('a' + i % 4));
        return s.ask(proxy.port(), agent, agent);
    });
    CHECK(ok == 40);
    // Only the requests already out when the storm began met it: every other request, and
    // every retry, waited in aimo's queue until the upstream's Retry-After had passed.
    CHECK(upstream.storm_seen >= 1);
    CHECK(upstream.storm_seen <= 4);
    CHECK(Clock::now() - start >= std::chrono::milliseconds(2000));
    CHECK(upstream.order.size() == 40);
}

TEST_CASE("a request that waits past queue_timeout gets 429 saying it waited in aimo's queue",
          "[sched]") {
    CountingUpstream upstream(1500);
    Setup s(Setup::plain({"a"}));
    ProxyFixture proxy(s.router.url(),
                       s.options(upstream, "max_in_flight = 1\nqueue_timeout = 0.2\n"));
    std::thread first([&] { CHECK(s.ask(proxy.port(), "a", "1").status == 200); });
    REQUIRE(eventually([&] { return proxy.scheduler().in_flight("acct") == 1; }));
    auto waited = s.ask(proxy.port(), "a", "2");
    first.join();
    CHECK(waited.status == 429);
    CHECK(waited.header("Retry-After") == "1");
    CHECK(waited.header("x-aimo-attempts") == "acct:queue-timeout");
    auto error = json::parse(waited.body)["error"];
    CHECK(error["code"] == "queue_timeout");
    CHECK(error["type"] == "rate_limit_error");
    CHECK_THAT(error["message"].get<std::string>(), Contains("aimo's queue") && Contains("acct"));
    CHECK(upstream.order.size() == 1); // the one that timed out never went upstream
    auto metrics = http_get(proxy.port(), "/metrics");
    CHECK_THAT(metrics.body,
               Contains("status=\"429\"} 1") &&
                   Contains("aimo_queue_wait_seconds_count 1")); // the one that waited
    // Its record says how long it waited, and that it cost nothing.
    proxy.flush_ledger();
    auto records = governance::records_after(proxy.db(), 0);
    REQUIRE(records.size() == 2);
    const auto& timed_out = records[0].record.status == 429 ? records[0] : records[1];
    CHECK(timed_out.record.queue_us >= 200'000);
    CHECK(timed_out.record.cost_usd == 0);
}

TEST_CASE("a client that hangs up while queued leaves the queue at once and frees its reservation",
          "[sched]") {
    CountingUpstream upstream(1500);
    // At $1 a token a request reserves about $100 (its bytes and max_tokens): a budget of
    // $150 holds one reservation at a time.
    governance::AgentLimits tight;
    tight.budget_usd = 150;
    Setup s({{"a", {}}, {"b", tight}});
    auto options = s.options(upstream, "max_in_flight = 1\nprice_in = 1000000\n"
                                       "price_out = 1000000\n");
    options.stream_keepalive = std::chrono::milliseconds(100); // a queued stream starts at once
    ProxyFixture proxy(s.router.url(), options);
    std::thread first([&] { CHECK(s.ask(proxy.port(), "a", "1").status == 200); });
    REQUIRE(eventually([&] { return proxy.scheduler().in_flight("acct") == 1; }));

    SECTION("a request") {
        int fd = connect_loopback(proxy.port());
        REQUIRE(fd >= 0);
        std::string request =
            fmt::format("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                        "{}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
                        s.tokens["b"], std::strlen(Setup::body), Setup::body);
        REQUIRE(::send(fd, request.data(), request.size(), 0) ==
                static_cast<ssize_t>(request.size()));
        REQUIRE(eventually([&] { return proxy.scheduler().queued("acct") == 1; }));
        ::close(fd);
    }
    SECTION("a stream") {
        std::string body = Setup::body;
        body.insert(1, R"("stream":true,)");
        std::thread streamer([&] {
            http_post(proxy.port(), "/v1/chat/completions", body, s.headers("b", "2"),
                      [](const std::string&) { return false; }); // hang up at the first byte
        });
        REQUIRE(eventually([&] { return proxy.scheduler().queued("acct") == 1; }));
        streamer.join();
    }
    auto hung_up = Clock::now();
    REQUIRE(eventually([&] { return proxy.scheduler().queued("acct") == 0; }));
    CHECK(Clock::now() - hung_up < std::chrono::milliseconds(700)); // the first still runs
    CHECK(proxy.scheduler().in_flight("acct") == 1);
    // Its reservation is back: b's next request waits its turn instead of being refused.
    auto next = s.ask(proxy.port(), "b", "3");
    CHECK(next.status == 200);
    first.join();
    CHECK(upstream.order.size() == 2); // the one that hung up never went upstream
}

TEST_CASE("a queued stream receives ': queued' comments before its first token", "[sched]") {
    CountingUpstream upstream(600);
    Setup s(Setup::plain({"a"}));
    auto options = s.options(upstream, "max_in_flight = 1\n");
    options.stream_keepalive = std::chrono::milliseconds(100);
    ProxyFixture proxy(s.router.url(), options);
    std::thread first([&] { CHECK(s.ask(proxy.port(), "a", "1").status == 200); });
    REQUIRE(eventually([&] { return proxy.scheduler().in_flight("acct") == 1; }));
    std::string body = Setup::body;
    body.insert(1, R"("stream":true,)");
    std::vector<std::pair<Clock::duration, std::string>> pieces;
    auto start = Clock::now();
    auto reply = http_post(proxy.port(), "/v1/chat/completions", body, s.headers("a", "2"),
                           [&](const std::string& piece) {
                               pieces.emplace_back(Clock::now() - start, piece);
                               return true;
                           });
    first.join();
    CHECK(reply.status == 200);
    REQUIRE(!pieces.empty());
    // The first comment came at once, long before the slot was free.
    CHECK_THAT(pieces.front().second, Contains(": queued"));
    CHECK(pieces.front().first < std::chrono::milliseconds(300));
    std::string all;
    for (const auto& [at, piece] : pieces) {
        all += piece;
    }
    auto token = all.find("\"content\":\"ok\"");
    REQUIRE(token != std::string::npos);
    CHECK(all.rfind(": queued", token) != std::string::npos);
    CHECK_THAT(all, Contains("data: [DONE]"));
}

TEST_CASE("GET /api/aimo/status shows requests out and waiting by provider and agent", "[sched]") {
    CountingUpstream upstream(800);
    Setup s(Setup::plain({"a", "b"}));
    ProxyFixture proxy(s.router.url(), s.options(upstream, "max_in_flight = 1\nrpm = 1000\n"));
    std::thread first([&] { s.ask(proxy.port(), "a", "1"); });
    REQUIRE(eventually([&] { return proxy.scheduler().in_flight("acct") == 1; }));
    std::thread second([&] { s.ask(proxy.port(), "b", "2"); });
    REQUIRE(eventually([&] { return proxy.scheduler().queued("acct") == 1; }));
    auto reply = http_get(proxy.port(), "/api/aimo/status");
    first.join();
    second.join();
    REQUIRE(reply.status == 200);
    auto status = json::parse(reply.body);
    json acct;
    for (const auto& p : status["providers"]) {
        if (p["provider"] == "acct") {
            acct = p;
        }
    }
    REQUIRE(acct.is_object());
    CHECK(acct["in_flight"] == 1);
    CHECK(acct["queued"] == 1);
    CHECK(acct["limits"]["max_in_flight"] == 1);
    CHECK(acct["limits"]["rpm"] == 1000);
    CHECK(acct["last_minute"]["requests"] == 1);
    CHECK(acct["agents"] == json::array({{{"agent", "a"}, {"in_flight", 1}, {"queued", 0}},
                                         {{"agent", "b"}, {"in_flight", 0}, {"queued", 1}}}));
    CHECK(http_post(proxy.port(), "/api/aimo/status", "{}").status == 405);
}
