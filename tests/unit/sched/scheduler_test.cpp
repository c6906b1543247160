// The scheduler alone: who goes next, and when time lets a request out (windows, holds,
// what the upstream's headers said). Real threads wait only where a test says so.
#include "sched/scheduler.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

using namespace aimo;
using namespace aimo::sched;
using namespace std::chrono_literals;

namespace {
Ask ask(const std::string& agent, Limits limits, int weight = 1) {
    Ask a;
    a.provider = "p";
    a.provider_limits = limits;
    a.model = "m";
    a.agent = agent;
    a.weight = weight;
    return a;
}

Limits one_at_a_time() {
    Limits limits;
    limits.max_in_flight = 1;
    return limits;
}
} // namespace

TEST_CASE("rate-limit reset durations are read as upstreams write them", "[sched]") {
    CHECK(parse_reset("20ms") == std::chrono::milliseconds(20));
    CHECK(parse_reset("1s") == std::chrono::seconds(1));
    CHECK(parse_reset("6m0s") == std::chrono::minutes(6));
    CHECK(parse_reset("1h2m3.5s") == std::chrono::milliseconds(3'723'500));
    CHECK(parse_reset(" 2 ") == std::chrono::seconds(2));
    CHECK(!parse_reset(""));
    CHECK(!parse_reset("soon"));
    CHECK(!parse_reset("5d"));
    CHECK(!parse_reset("99999999s")); // past a day: not believed
}

TEST_CASE("waiting agents take turns by weight, first come within one agent", "[sched]") {
    Scheduler scheduler;
    auto holder = scheduler.enter(ask("x", one_at_a_time()));
    REQUIRE(holder->granted());
    std::vector<std::unique_ptr<Scheduler::Ticket>> heavy;
    std::vector<std::unique_ptr<Scheduler::Ticket>> light;
    for (int i = 0; i < 12; ++i) {
        heavy.push_back(scheduler.enter(ask("heavy", one_at_a_time(), 3)));
        light.push_back(scheduler.enter(ask("light", one_at_a_time())));
    }
    CHECK(!heavy.front()->granted());
    CHECK(scheduler.queued("p") == 24);
    // Let them out one at a time and note whose turn each was.
    std::string order;
    size_t next_heavy = 0;
    size_t next_light = 0;
    holder.reset();
    for (int turn = 0; turn < 16; ++turn) {
        if (next_heavy < heavy.size() && heavy[next_heavy]->granted()) {
            order += 'H';
            heavy[next_heavy++].reset();
        } else if (next_light < light.size() && light[next_light]->granted()) {
            order += 'L';
            light[next_light++].reset();
        } else {
            FAIL("no request was let out after a release");
        }
    }
    // Three turns to one, spread out: every four turns hold one of the light agent's.
    CHECK(std::count(order.begin(), order.end(), 'H') == 12);
    for (size_t at = 0; at + 4 <= order.size(); at += 4) {
        CAPTURE(order);
        CHECK(std::count(order.begin() + at, order.begin() + at + 4, 'L') == 1);
    }
}

TEST_CASE("an agent that starts waiting gets the next turn, not a turn after a flood", "[sched]") {
    Scheduler scheduler;
    auto holder = scheduler.enter(ask("x", one_at_a_time()));
    std::vector<std::unique_ptr<Scheduler::Ticket>> flood;
    for (int i = 0; i < 50; ++i) {
        flood.push_back(scheduler.enter(ask("flood", one_at_a_time())));
    }
    holder.reset();
    REQUIRE(flood[0]->granted());
    flood[0].reset();
    REQUIRE(flood[1]->granted());
    auto single = scheduler.enter(ask("single", one_at_a_time()));
    flood[1].reset();
    CHECK(single->granted());
    CHECK(!flood[2]->granted());
}

TEST_CASE("a ticket destroyed while waiting leaves the queue", "[sched]") {
    Scheduler scheduler;
    auto holder = scheduler.enter(ask("a", one_at_a_time()));
    auto gone = scheduler.enter(ask("b", one_at_a_time()));
    auto stays = scheduler.enter(ask("b", one_at_a_time()));
    CHECK(scheduler.queued("p") == 2);
    gone.reset();
    CHECK(scheduler.queued("p") == 1);
    holder.reset();
    CHECK(stays->granted());
    CHECK(scheduler.in_flight("p") == 1);
}

TEST_CASE("rpm lets a window's worth out, and the rest as the window moves on", "[sched]") {
    Scheduler scheduler(200ms); // counts for 250 ms with its margin
    Limits limits;
    limits.rpm = 2;
    auto first = scheduler.enter(ask("a", limits));
    auto second = scheduler.enter(ask("a", limits));
    first.reset(); // done: in flight no more, but still in the window
    second.reset();
    auto third = scheduler.enter(ask("a", limits));
    CHECK(!third->granted());
    auto start = Clock::now();
    CHECK(!third->wait(start + 100ms));
    CHECK(third->wait(start + 2s));
    CHECK(Clock::now() - start >= 200ms);
    auto states = scheduler.states();
    REQUIRE(states.size() == 1);
    CHECK(states[0].window_requests == 1);
}

TEST_CASE("tpm counts estimates until the real usage replaces them", "[sched]") {
    Scheduler scheduler(10s);
    Limits limits;
    limits.tpm = 1000;
    auto big = ask("a", limits);
    big.tokens = 900;
    auto first = scheduler.enter(big);
    REQUIRE(first->granted());
    auto second = scheduler.enter(big);
    CHECK(!second->granted()); // 1800 estimated > 1000
    first->used(50);           // it really used 50: 950 fit now
    CHECK(second->wait(Clock::now() + 1s));
    // A request larger than the whole allowance still goes, once the window is empty.
    Scheduler lone(10s);
    auto huge = ask("a", limits);
    huge.tokens = 5000;
    CHECK(lone.enter(huge)->granted());
}

TEST_CASE("a hold stops everyone until it ends", "[sched]") {
    Scheduler scheduler;
    scheduler.hold("p", Clock::now() + 150ms);
    CHECK(scheduler.held_until("p") > Clock::now());
    auto start = Clock::now();
    auto ticket = scheduler.enter(ask("a", {}));
    CHECK(!ticket->granted());
    CHECK(ticket->wait(start + 2s));
    CHECK(Clock::now() - start >= 150ms);
    CHECK(std::chrono::duration_cast<std::chrono::milliseconds>(ticket->waited()) >= 140ms);

    // A hold longer than a request would wait out refuses it at once.
    scheduler.hold("p", Clock::now() + 10s);
    auto impatient = ask("a", {});
    impatient.longest_hold = 1s;
    CHECK(scheduler.enter(impatient) == nullptr);
    CHECK(scheduler.queued("p") == 0);
}

TEST_CASE("x-ratelimit-remaining at zero holds the model until its reset", "[sched]") {
    Scheduler scheduler;
    core::Headers headers;
    headers.add("x-ratelimit-remaining-requests", "0");
    headers.add("x-ratelimit-reset-requests", "150ms");
    scheduler.observe("p", "m", headers);
    auto start = Clock::now();
    auto ticket = scheduler.enter(ask("a", {}));
    CHECK(!ticket->granted());
    auto other_model = ask("a", {});
    other_model.model = "n";
    CHECK(scheduler.enter(other_model)->granted() == false); // it waits behind the queue
    CHECK(ticket->wait(start + 2s));
    CHECK(Clock::now() - start >= 150ms);

    // Tokens left: a request estimated above them waits for the reset.
    core::Headers tokens;
    tokens.add("x-ratelimit-remaining-tokens", "100");
    tokens.add("x-ratelimit-reset-tokens", "1s");
    Scheduler steered;
    steered.observe("p", "m", tokens);
    auto small = ask("a", {});
    small.tokens = 50;
    CHECK(steered.enter(small)->granted());
    auto large = ask("b", {});
    large.tokens = 80; // 50 of the 100 are spoken for
    CHECK(!steered.enter(large)->granted());
}

TEST_CASE("a model's own limit holds its requests while the provider's other models go",
          "[sched]") {
    Scheduler scheduler;
    auto limited = ask("a", {});
    limited.model_limits = one_at_a_time();
    auto first = scheduler.enter(limited);
    REQUIRE(first->granted());
    auto second = scheduler.enter(limited);
    CHECK(!second->granted());
    auto other = ask("b", {});
    other.model = "n";
    auto free = scheduler.enter(other);
    CHECK(free->wait(Clock::now() + 1s)); // skips past the waiting request of another model
    first.reset();
    CHECK(second->granted());
}
