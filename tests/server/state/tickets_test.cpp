// A busy agent's requests admitted ahead of time (tickets) by SharedGovernors over one real
// redis-server: what a ticket holds is in the server, a change or a lost server stops tickets at
// once, and near a limit every admission is the exact one-script kind again.
#include "governance_helpers.hpp"
#include "redis_server.hpp"
#include "state/shared_agents.hpp"
#include "state/shared_governor.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

using namespace aimo;
using governance::Admission;
using governance::Denial;
using std::chrono::milliseconds;
using test::caller_of;
using test::status_of;
using test::tokens;
using Clock = std::chrono::steady_clock;

namespace {
struct Instance {
    explicit Instance(const test::RedisServer& redis)
        : state(redis), governor(state.client(), false, milliseconds(0), milliseconds(30'000)) {}
    test::LoggedStateClient state;
    state::SharedGovernor governor;
};

std::string create(state::StateClient& client, const std::string& name,
                   governance::AgentLimits limits) {
    return state::SharedAgents(client).create(name, limits, "2026-12-04T00:00:00Z");
}

bool from_ticket(const Admission& admission) {
    return admission.reservation.find(":t") != std::string::npos;
}

// Admits requests of `caller` (settling each at once) until one comes from a ticket; how many
// it took, or -1 when none did within 5 s.
int until_ticket(state::SharedGovernor& governor, const governance::Caller& caller) {
    auto deadline = Clock::now() + std::chrono::seconds(5);
    for (int count = 1; Clock::now() < deadline; ++count) {
        auto admission = std::get<Admission>(governor.admit(caller, "m", tokens(1), Clock::now()));
        governor.settle(admission, 1, 1.0, Clock::now());
        if (from_ticket(admission)) {
            return count;
        }
        std::this_thread::sleep_for(milliseconds(2));
    }
    return -1;
}

// Waits up to 5 s for `done`.
template <typename Done> bool eventually(Done done) {
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!done()) {
        if (Clock::now() > deadline) {
            return false;
        }
        std::this_thread::sleep_for(milliseconds(20));
    }
    return true;
}
} // namespace

TEST_CASE("a busy agent is admitted from tickets, which go back once it stops", "[state]") {
    test::RedisServer redis;
    state::StateClient observer(state::parse_redis_url(redis.url()), nullptr);
    auto keys = state::AgentKeys("bot");
    // A hundredth of this budget is ten requests' worth, of this rpm sixty requests.
    auto token = create(observer, "bot", {1000.0, 6000, {}, {}});
    Instance a(redis);
    auto caller = caller_of(a.governor, token);
    int admitted = until_ticket(a.governor, caller);
    REQUIRE(admitted > 1); // the first ones show it is busy
    // What the tickets hold is in the server: budget for each, and a place in the window.
    REQUIRE(a.governor.flush()); // the settlements landed, any refill came back
    auto unused = a.governor.prefetched("bot");
    CHECK(unused <= 5); // at most 1% of the budget, each holding twice the request's worst case
    CHECK(observer.command({"ZCARD", keys.requests}).integer == admitted + unused);
    auto held = [&] { return observer.command({"HLEN", keys.holds}).integer; };
    CHECK(held() == unused);
    auto listed = state::SharedAgents(observer).get("bot");
    CHECK(listed.spent_usd == Approx(admitted));
    // Unused, they are given back within a second: nothing held, only real requests counted.
    CHECK(eventually([&] { return a.governor.prefetched("bot") == 0 && held() == 0; }));
    CHECK(observer.command({"ZCARD", keys.requests}).integer == admitted);
}

TEST_CASE("tickets never pass a budget, and its upper half goes one script at a time", "[state]") {
    test::RedisServer redis;
    state::StateClient observer(state::parse_redis_url(redis.url()), nullptr);
    auto token = create(observer, "bot", {1000.0, {}, {}, {}});
    Instance a(redis), b(redis);
    auto on_a = caller_of(a.governor, token);
    auto on_b = caller_of(b.governor, token);
    std::atomic<int> admitted{0}, ticketed{0}, refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            auto& governor = t % 2 ? b.governor : a.governor;
            const auto& caller = t % 2 ? on_b : on_a;
            for (int i = 0; i < 200; ++i) {
                auto decision = governor.admit(caller, "m", tokens(1), Clock::now());
                if (auto* admission = std::get_if<Admission>(&decision)) {
                    ++admitted;
                    ticketed += from_ticket(*admission) ? 1 : 0;
                    governor.settle(*admission, 1, 1.0, Clock::now());
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
    REQUIRE(a.governor.flush());
    REQUIRE(b.governor.flush());
    CHECK(admitted + refused == 1600);
    CHECK(ticketed > 0);
    CHECK(admitted == 1000); // each costs what it may at most: exactly the budget's worth
    CHECK(state::SharedAgents(observer).get("bot").spent_usd == Approx(1000.0));
}

TEST_CASE("a change to an agent or a lost state server stops tickets at once", "[state]") {
    test::RedisServer redis;
    state::StateClient observer(state::parse_redis_url(redis.url()), nullptr);
    auto bot = create(observer, "bot", {});
    auto other = create(observer, "other", {});
    Instance a(redis);
    auto on_bot = caller_of(a.governor, bot);
    auto on_other = caller_of(a.governor, other);
    REQUIRE(until_ticket(a.governor, on_bot) > 0);
    REQUIRE(eventually([&] { return a.governor.prefetched("bot") > 0; }));
    state::SharedAgents(observer).revoke("bot", "2026-12-04T01:00:00Z");
    auto refused = a.governor.admit(on_bot, "m", {}, Clock::now());
    CHECK(std::get<Denial>(refused).code == "revoked_api_key");

    REQUIRE(until_ticket(a.governor, on_other) > 0);
    REQUIRE(eventually([&] { return a.governor.prefetched("other") > 0; }));
    redis.kill();
    auto lost = a.governor.admit(on_other, "m", {}, Clock::now());
    REQUIRE(status_of(lost) == 503);
    CHECK(std::get<Denial>(lost).code == "state_unavailable");
}

TEST_CASE("an agent with a small rpm or past half a limit gets no tickets", "[state]") {
    test::RedisServer redis;
    state::StateClient observer(state::parse_redis_url(redis.url()), nullptr);
    // Under 100 requests a minute a single ticket would be more than 1% of the window.
    auto small = create(observer, "small", {{}, 60, {}, {}});
    auto half = create(observer, "half", {{}, 200, {}, {}});
    Instance a(redis);
    auto on_small = caller_of(a.governor, small);
    for (int i = 0; i < 30; ++i) {
        REQUIRE(status_of(a.governor.admit(on_small, "m", {}, Clock::now())) == 200);
        REQUIRE(a.governor.flush()); // any refill has been asked for and answered
        CHECK(a.governor.prefetched("small") == 0);
    }
    // At 200 a minute tickets come two at a time (1%), until half the window is taken.
    auto on_half = caller_of(a.governor, half);
    auto requests = [&] {
        return observer.command({"ZCARD", state::AgentKeys("half").requests}).integer;
    };
    int ticketed = 0;
    while (requests() < 102) { // two more: unused tickets given back leave 100
        auto admission = std::get<Admission>(a.governor.admit(on_half, "m", {}, Clock::now()));
        ticketed += from_ticket(admission) ? 1 : 0;
        REQUIRE(a.governor.flush());
        CHECK(a.governor.prefetched("half") <= 2);
    }
    CHECK(ticketed > 0);
    REQUIRE(eventually([&] { return a.governor.prefetched("half") == 0; }));
    for (int i = 0; i < 10; ++i) {
        auto admission = std::get<Admission>(a.governor.admit(on_half, "m", {}, Clock::now()));
        CHECK_FALSE(from_ticket(admission));
        REQUIRE(a.governor.flush());
        CHECK(a.governor.prefetched("half") == 0);
    }
}
