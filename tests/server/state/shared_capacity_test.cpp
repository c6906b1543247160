// Schedulers of several instances sharing one real redis-server for a provider's capacity: a
// max_in_flight, an rpm and a tpm hold across instances, a place an instance held when it died
// is free a lease later, and without the server each instance counts alone.
#include "redis_server.hpp"
#include "sched/scheduler.hpp"
#include "state/redis_url.hpp"
#include "state/shared_capacity.hpp"

#include <catch2/catch.hpp>
#include <mutex>

using namespace aimo;
using Catch::Matchers::Contains;
using sched::Scheduler;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {
// One aimo instance: its own state client, shared counts and scheduler.
struct Instance {
    explicit Instance(const test::RedisServer& redis, milliseconds lease = milliseconds(30'000),
                      milliseconds window = milliseconds(60'000))
        : state(redis), capacity(state.client(), lease), scheduler(window, &capacity) {}
    std::string logged() { return state.logged(); }
    test::LoggedStateClient state;
    state::SharedCapacity capacity;
    Scheduler scheduler;
};

sched::Ask ask(sched::Limits limits, int64_t tokens = 0) {
    sched::Ask a;
    a.provider = "p";
    a.provider_limits = limits;
    a.model = "m";
    a.tokens = tokens;
    return a;
}

sched::Limits in_flight(int most) {
    sched::Limits limits;
    limits.max_in_flight = most;
    return limits;
}

// True when `ticket` holds a slot within `within`.
bool granted_within(Scheduler::Ticket& ticket, milliseconds within) {
    return ticket.wait(Clock::now() + within);
}
} // namespace

TEST_CASE("a provider's max_in_flight holds across instances", "[state]") {
    test::RedisServer redis;
    Instance a(redis), b(redis);
    auto first = a.scheduler.enter(ask(in_flight(2)));
    auto second = b.scheduler.enter(ask(in_flight(2)));
    CHECK(first->granted());
    CHECK(second->granted());
    // Each instance alone would let a second request out; together they are at the limit.
    auto third = a.scheduler.enter(ask(in_flight(2)));
    auto fourth = b.scheduler.enter(ask(in_flight(2)));
    CHECK_FALSE(third->granted());
    CHECK_FALSE(granted_within(*fourth, milliseconds(100)));
    CHECK_FALSE(granted_within(*third, milliseconds(100)));
    second.reset(); // b's request ends: its place is given back after the reply
    bool third_in = granted_within(*third, milliseconds(2000));
    bool fourth_in = granted_within(*fourth, milliseconds(third_in ? 100 : 2000));
    CHECK(third_in != fourth_in); // exactly one got the freed place
    first.reset();
    CHECK(granted_within(third_in ? *fourth : *third, milliseconds(2000)));
}

TEST_CASE("a provider's rpm and tpm are one window across instances", "[state]") {
    test::RedisServer redis;
    Instance a(redis, milliseconds(30'000), milliseconds(1000));
    Instance b(redis, milliseconds(30'000), milliseconds(1000));
    Instance c(redis, milliseconds(30'000), milliseconds(1000));
    sched::Limits rpm;
    rpm.rpm = 3;
    std::vector<std::unique_ptr<Scheduler::Ticket>> done;
    for (auto* instance : {&a, &b, &c}) {
        done.push_back(instance->scheduler.enter(ask(rpm)));
        CHECK(done.back()->granted());
    }
    auto start = Clock::now();
    auto fourth = a.scheduler.enter(ask(rpm));
    CHECK_FALSE(fourth->granted());
    // It goes once the first request has left the shared window (a second, and a little).
    CHECK(granted_within(*fourth, milliseconds(3000)));
    CHECK(Clock::now() - start >= milliseconds(900));

    sched::Limits tpm;
    tpm.tpm = 100;
    sched::Ask big = ask(tpm, 60);
    big.provider = "q";
    auto on_b = b.scheduler.enter(big);
    CHECK(on_b->granted());
    auto on_c = c.scheduler.enter(big);
    CHECK_FALSE(granted_within(*on_c, milliseconds(100)));
    on_b->used(10); // it really used 10 tokens: 70 fit now
    on_b.reset();
    REQUIRE(b.capacity.flush());
    CHECK(granted_within(*on_c, milliseconds(500)));
}

TEST_CASE("a place held by an instance that died is free a lease later", "[state]") {
    test::RedisServer redis;
    Instance survivor(redis);
    auto start = Clock::now();
    {
        Instance dying(redis, milliseconds(600));
        auto retry = Clock::now();
        REQUIRE(dying.capacity.acquire(ask(in_flight(1)), std::chrono::minutes(1), retry));
        // While it lives it renews its lease: the place outlasts the lease.
        auto waiting = survivor.scheduler.enter(ask(in_flight(1)));
        CHECK_FALSE(granted_within(*waiting, milliseconds(900)));
    } // gone without giving the place back, as after kill -9
    auto waiting = survivor.scheduler.enter(ask(in_flight(1)));
    CHECK(granted_within(*waiting, milliseconds(3000)));
    CHECK(Clock::now() - start >= milliseconds(900));
}

TEST_CASE("without the state server each instance counts its provider's capacity alone",
          "[state]") {
    test::RedisServer redis;
    Instance a(redis);
    redis.kill();
    auto first = a.scheduler.enter(ask(in_flight(1)));
    CHECK(first->granted());
    CHECK_THAT(a.logged(), Contains("cannot reach the state server") &&
                               Contains("counted by this instance alone"));
    // Its own limit still holds.
    auto second = a.scheduler.enter(ask(in_flight(1)));
    CHECK_FALSE(granted_within(*second, milliseconds(50)));
    first.reset();
    CHECK(granted_within(*second, milliseconds(1000)));
}
