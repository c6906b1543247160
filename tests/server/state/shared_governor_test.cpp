// Two SharedGovernors (two aimo instances) over one real redis-server: one set of agents, one
// budget and one rate window between them, reservations that expire when their instance dies,
// and admissions that fail closed while the server is gone and recover when it is back.
#include "core/error.hpp"
#include "governance_helpers.hpp"
#include "http_helpers.hpp"
#include "redis_server.hpp"
#include "scripted_server.hpp"
#include "state/shared_agents.hpp"
#include "state/shared_governor.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <poll.h>
#include <sys/socket.h>
#include <thread>

using namespace aimo;
using Catch::Matchers::Contains;
using governance::Admission;
using governance::Denial;
using std::chrono::milliseconds;
using test::caller_of;
using test::status_of;
using test::tokens;
using Clock = std::chrono::steady_clock;

namespace {
// A fleet of instances sharing `redis`, each with its own client and governor.
struct Instance {
    Instance(const test::RedisServer& redis, milliseconds lease = milliseconds(30'000))
        : state(redis), governor(state.client(), false, milliseconds(0), lease) {}
    std::string logged() { return state.logged(); }
    test::LoggedStateClient state;
    state::SharedGovernor governor;
};

std::string create(const test::RedisServer& redis, const std::string& name,
                   governance::AgentLimits limits = {}) {
    state::StateClient client(state::parse_redis_url(redis.url()), nullptr);
    return state::SharedAgents(client).create(name, limits, "2026-12-02T00:00:00Z");
}

double spent(const test::RedisServer& redis, const std::string& name) {
    state::StateClient client(state::parse_redis_url(redis.url()), nullptr);
    return state::SharedAgents(client).get(name).spent_usd;
}
} // namespace

TEST_CASE("instances sharing a state server never pass a budget together", "[state]") {
    test::RedisServer redis;
    Instance a(redis), b(redis);
    auto token = create(redis, "bot", {100.0, {}, {}, {}}); // a hundred tokens' worth
    auto on_a = caller_of(a.governor, token);
    auto on_b = caller_of(b.governor, token);
    std::atomic<int> admitted{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            auto& governor = t % 2 ? b.governor : a.governor;
            const auto& caller = t % 2 ? on_b : on_a;
            for (int i = 0; i < 20; ++i) {
                auto decision = governor.admit(caller, "m", tokens(3), Clock::now());
                if (auto* admission = std::get_if<Admission>(&decision)) {
                    ++admitted;
                    // Each costs what it reserved, or less: the budget may run out exactly.
                    governor.settle(*admission, 3, admission->reserved_usd, Clock::now());
                } else {
                    CHECK(std::get<Denial>(decision).code == "budget_exceeded");
                    ++refused;
                }
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    CHECK(admitted + refused == 160);
    REQUIRE(a.governor.flush());
    REQUIRE(b.governor.flush());
    CHECK(spent(redis, "bot") <= 100.0 + 1e-9);
    CHECK(spent(redis, "bot") >= 99.0); // capped requests used up the last tokens
    auto last = a.governor.admit(on_a, "m", tokens(1), Clock::now());
    CHECK(std::get<Denial>(last).message.find("has spent $100.000000 of its $100.000000") !=
          std::string::npos);
}

TEST_CASE("what is in flight holds budget on every instance until it is settled", "[state]") {
    test::RedisServer redis;
    Instance a(redis), b(redis);
    auto token = create(redis, "bot", {10.0, {}, {}, {}});
    auto on_a = caller_of(a.governor, token);
    auto on_b = caller_of(b.governor, token);
    auto first = std::get<Admission>(a.governor.admit(on_a, "m", tokens(8), Clock::now()));
    CHECK(first.reserved_usd == Approx(8));
    // b sees a's hold: two tokens are left, so its request is capped.
    auto second = std::get<Admission>(b.governor.admit(on_b, "m", tokens(8), Clock::now()));
    CHECK(second.max_tokens == 2);
    CHECK(std::get<Denial>(b.governor.admit(on_b, "m", tokens(1), Clock::now())).code ==
          "budget_exceeded");
    a.governor.settle(first, 1, 1.0, Clock::now());
    REQUIRE(a.governor.flush());
    CHECK(spent(redis, "bot") == Approx(1.0));
    b.governor.settle(second, 0, 0, Clock::now());
    REQUIRE(b.governor.flush());
    CHECK(status_of(b.governor.admit(on_b, "m", tokens(9), Clock::now())) == 200);
}

TEST_CASE("settlements sent together charge each agent its own cost and tokens", "[state]") {
    test::RedisServer redis;
    Instance a(redis);
    auto ann = caller_of(a.governor, create(redis, "ann", {10.0, {}, 1000, {}}));
    auto bob = caller_of(a.governor, create(redis, "bob", {10.0, {}, 1000, {}}));
    // Finished within the same few milliseconds, they leave in one batch.
    for (int i = 0; i < 3; ++i) {
        for (auto* caller : {&ann, &bob}) {
            auto admission =
                std::get<Admission>(a.governor.admit(*caller, "m", tokens(2), Clock::now()));
            a.governor.settle(admission, caller == &ann ? 100 : 10, caller == &ann ? 1.5 : 0.25,
                              Clock::now());
        }
    }
    REQUIRE(a.governor.flush());
    CHECK(spent(redis, "ann") == Approx(4.5));
    CHECK(spent(redis, "bob") == Approx(0.75));
    auto remaining = [&](const governance::Caller& caller) {
        auto admission =
            std::get<Admission>(a.governor.admit(caller, "m", tokens(1), Clock::now()));
        return *admission.headers.find("x-ratelimit-remaining-tokens");
    };
    CHECK(remaining(ann) == "700");
    CHECK(remaining(bob) == "970");
}

TEST_CASE("a settlement whose answer was lost counts once when it is sent again", "[state]") {
    test::RedisServer redis;
    auto token = create(redis, "bot", {10.0, {}, {}, {}});
    // A relay to the server that, once armed, passes the next settlement on and then drops
    // the connection instead of its answer: the server counted it, the instance cannot know.
    std::atomic<bool> armed{false};
    std::atomic<int> lost{0};
    test::ScriptedServer relay([&](int client, int) {
        int server = test::connect_loopback(redis.port());
        pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
        char buffer[65536];
        while (poll(fds, 2, -1) > 0) {
            for (int side = 0; side < 2; ++side) {
                if ((fds[side].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
                    continue;
                }
                auto got = recv(fds[side].fd, buffer, sizeof buffer, 0);
                if (got <= 0) {
                    close(server);
                    return;
                }
                std::string chunk(buffer, static_cast<size_t>(got));
                test::ScriptedServer::write_all(fds[1 - side].fd, chunk);
                if (side == 0 && chunk.find("settled:") != std::string::npos &&
                    armed.exchange(false)) {
                    recv(server, buffer, sizeof buffer, 0); // the answer, never delivered
                    ++lost;
                    close(server);
                    return;
                }
            }
        }
        close(server);
    });
    {
        state::StateClient client(
            state::parse_redis_url("redis://127.0.0.1:" + std::to_string(relay.port())), nullptr);
        state::SharedGovernor governor(client, false, milliseconds(0), milliseconds(30'000));
        auto caller = caller_of(governor, token);
        auto admission = std::get<Admission>(governor.admit(caller, "m", tokens(8), Clock::now()));
        armed = true;
        governor.settle(admission, 1, 1.0, Clock::now());
        REQUIRE(governor.flush()); // sent again once the connection is back
        CHECK(lost == 1);
        CHECK(governor.unsettled() == 0);
    }
    CHECK(spent(redis, "bot") == Approx(1.0));
    // The hold went with it: the other nine are free.
    Instance b(redis);
    CHECK(status_of(b.governor.admit(caller_of(b.governor, token), "m", tokens(9), Clock::now())) ==
          200);
}

TEST_CASE("a settlement made just before an instance stops is still counted", "[state]") {
    test::RedisServer redis;
    auto token = create(redis, "bot", {10.0, {}, {}, {}});
    {
        Instance a(redis);
        auto caller = caller_of(a.governor, token);
        auto admission =
            std::get<Admission>(a.governor.admit(caller, "m", tokens(4), Clock::now()));
        a.governor.settle(admission, 3, 3.0, Clock::now());
    } // the keeper sends what is queued on its way out
    CHECK(spent(redis, "bot") == Approx(3.0));
    Instance b(redis);
    // Its hold went with the settlement: all that is left is free.
    CHECK(status_of(b.governor.admit(caller_of(b.governor, token), "m", tokens(7), Clock::now())) ==
          200);
}

TEST_CASE("an admission's round trip is spent on the caller's work", "[state]") {
    test::RedisServer redis;
    Instance a(redis);
    auto token = create(redis, "bot", {10.0, {}, {}, {}});
    auto caller = caller_of(a.governor, token);
    state::StateClient observer(state::parse_redis_url(redis.url()), nullptr);
    auto holds = state::AgentKeys("bot").holds;
    auto held = [&] { return observer.command({"HLEN", holds}).integer; };
    // The script is already on its way when `meanwhile` runs: its hold appears in the server
    // while the caller works, before the admission has its answer.
    int runs = 0;
    long long seen = 0;
    auto admitted = a.governor.admit_while(caller, "m", tokens(10), Clock::now(), [&] {
        ++runs;
        auto deadline = Clock::now() + std::chrono::seconds(5);
        while ((seen = held()) == 0 && Clock::now() < deadline) {
        }
    });
    CHECK(status_of(admitted) == 200);
    CHECK(runs == 1);
    CHECK(seen == 1);
    // A refusal (the budget is held) runs it too, once; an admission that cannot reach the
    // server does not.
    runs = 0;
    CHECK(status_of(a.governor.admit_while(caller, "m", tokens(1), Clock::now(),
                                           [&] { ++runs; })) == 402);
    CHECK(runs == 1);
    redis.kill();
    runs = 0;
    CHECK(status_of(a.governor.admit_while(caller, "m", tokens(1), Clock::now(),
                                           [&] { ++runs; })) == 503);
    CHECK(runs == 0);
}

TEST_CASE("requests per minute are one window across instances", "[state]") {
    test::RedisServer redis;
    Instance a(redis), b(redis), c(redis);
    auto token = create(redis, "bot", {{}, 6, {}, {}});
    Instance* all[] = {&a, &b, &c};
    for (int i = 0; i < 6; ++i) {
        auto& governor = all[i % 3]->governor;
        auto decision = governor.admit(caller_of(governor, token), "m", {}, Clock::now());
        REQUIRE(status_of(decision) == 200);
        CHECK(std::get<Admission>(decision).headers.value("x-ratelimit-remaining-requests") ==
              std::to_string(5 - i));
    }
    for (auto* instance : all) {
        auto decision =
            instance->governor.admit(caller_of(instance->governor, token), "m", {}, Clock::now());
        REQUIRE(status_of(decision) == 429);
        auto retry = std::stoi(std::get<Denial>(decision).headers.value("Retry-After"));
        CHECK((retry >= 59 && retry <= 60));
    }
}

TEST_CASE("agents created or revoked anywhere apply on every instance", "[state]") {
    test::RedisServer redis;
    Instance a(redis), b(redis);
    CHECK_FALSE(a.governor.auth_required());
    auto token = create(redis, "bot", {{}, {}, {}, {"m"}});
    // An unknown token makes the instance look again at once.
    auto on_b = caller_of(b.governor, token);
    CHECK(a.governor.auth_required());
    CHECK(status_of(b.governor.admit(on_b, "m", {}, Clock::now())) == 200);
    CHECK(b.governor.precheck(on_b, "other", Clock::now())->code == "model_not_allowed");
    state::StateClient cli(state::parse_redis_url(redis.url()), nullptr);
    state::SharedAgents(cli).revoke("bot", "2026-12-02T01:00:00Z");
    // The admission reads the agent atomically: no cache delays a revocation.
    auto refused = b.governor.admit(on_b, "m", {}, Clock::now());
    CHECK(std::get<Denial>(refused).code == "revoked_api_key");
    CHECK(std::get<Denial>(a.governor.authenticate("Bearer " + token)).code == "revoked_api_key");
    // The agent survives as revoked; its name stays taken.
    CHECK_THROWS_AS(create(redis, "bot"), core::Error);
}

TEST_CASE("an instance that dies holds its reservation only until the lease ends", "[state]") {
    test::RedisServer redis;
    auto token = create(redis, "bot", {10.0, {}, {}, {}});
    Instance survivor(redis);
    auto caller = caller_of(survivor.governor, token);
    auto start = Clock::now();
    {
        Instance dying(redis, milliseconds(600));
        auto held =
            dying.governor.admit(caller_of(dying.governor, token), "m", tokens(10), Clock::now());
        REQUIRE(status_of(held) == 200);
        // While it lives, it renews the lease: the hold outlasts the lease.
        std::this_thread::sleep_for(milliseconds(900));
        CHECK(status_of(survivor.governor.admit(caller, "m", tokens(1), Clock::now())) == 402);
    } // gone without settling, as after kill -9
    auto deadline = Clock::now() + std::chrono::seconds(5);
    int status = 402;
    while (status == 402 && Clock::now() < deadline) {
        status = status_of(survivor.governor.admit(caller, "m", tokens(10), Clock::now()));
    }
    CHECK(status == 200);
    CHECK(Clock::now() - start >= milliseconds(900));
    CHECK(spent(redis, "bot") == 0);
}

TEST_CASE("without the state server admissions fail closed, and recover when it is back",
          "[state]") {
    test::RedisServer redis(true);
    Instance a(redis);
    auto token = create(redis, "bot", {10.0, {}, {}, {}});
    auto caller = caller_of(a.governor, token);
    auto in_flight = std::get<Admission>(a.governor.admit(caller, "m", tokens(2), Clock::now()));
    redis.kill();
    auto refused = a.governor.admit(caller, "m", tokens(1), Clock::now());
    REQUIRE(status_of(refused) == 503);
    CHECK(std::get<Denial>(refused).code == "state_unavailable");
    CHECK_THAT(std::get<Denial>(refused).message,
               Contains("state server redis://127.0.0.1:" + std::to_string(redis.port())));
    CHECK_THAT(a.logged(), Contains("lost the state server") && Contains("refused (503)"));
    // The token is still known: the cache stands while the server is away.
    CHECK(std::holds_alternative<governance::Caller>(a.governor.authenticate("Bearer " + token)));
    // What finishes meanwhile is kept, then counted once when the server is back.
    a.governor.settle(in_flight, 2, 2.0, Clock::now());
    CHECK(a.governor.unsettled() == 1);
    redis.start();
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while ((a.governor.unsettled() > 0 ||
            status_of(a.governor.admit(caller, "m", tokens(1), Clock::now())) != 200) &&
           Clock::now() < deadline) {
        std::this_thread::sleep_for(milliseconds(20));
    }
    CHECK(a.governor.unsettled() == 0);
    CHECK_THAT(a.logged(), Contains("is back"));
    CHECK(spent(redis, "bot") == Approx(2.0));
}
