// The ticket pool on its own: who is busy enough for tickets, which ticket a request may take,
// and what is dropped to be given back.
#include "state/tickets.hpp"

#include <catch2/catch.hpp>

using namespace aimo::state;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {
std::vector<Ticket> made(int count, double amount, uint64_t generation, Clock::time_point until) {
    std::vector<Ticket> out;
    for (int i = 0; i < count; ++i) {
        out.push_back(Ticket{"t" + std::to_string(i), amount, amount > 0, generation, until, {}});
    }
    return out;
}
} // namespace

TEST_CASE("only an agent with more than one request per ttl wants tickets", "[state]") {
    TicketPool pool(milliseconds(500));
    auto now = Clock::now();
    CHECK_FALSE(pool.take("bot", 0, 1, now));
    CHECK(pool.wanted("bot", now) == 0); // one request: not busy
    CHECK_FALSE(pool.take("bot", 0, 1, now));
    CHECK(pool.wanted("bot", now) == 4); // twice what it used
    CHECK(pool.wanted("bot", now) == 0); // a refill is on its way
    pool.refilled("bot", made(4, 0, 1, now + milliseconds(500)), 1, now);
    CHECK(pool.unused("bot").second == 4);
    // A quiet ttl later it counts as not busy again.
    auto later = now + milliseconds(1200);
    CHECK_FALSE(pool.take("bot", 0, 1, later)); // expired: dropped
    CHECK(pool.wanted("bot", later) == 0);
    CHECK(pool.take_dropped()["bot"].size() == 4);
    CHECK(pool.take_dropped().empty());
}

TEST_CASE("a refill that got nothing is not asked for again for a ttl", "[state]") {
    TicketPool pool(milliseconds(500));
    auto now = Clock::now();
    pool.take("bot", 0, 1, now);
    pool.take("bot", 0, 1, now);
    REQUIRE(pool.wanted("bot", now) > 0);
    pool.refilled("bot", {}, 1, now); // near a limit: none made
    pool.take("bot", 0, 1, now + milliseconds(100));
    CHECK(pool.wanted("bot", now + milliseconds(100)) == 0);
    pool.take("bot", 0, 1, now + milliseconds(600));
    CHECK(pool.wanted("bot", now + milliseconds(600)) > 0);
}

TEST_CASE("a ticket is taken only of its generation, in time and holding enough", "[state]") {
    TicketPool pool(milliseconds(500));
    auto now = Clock::now();
    pool.refilled("bot", made(2, 2.0, 7, now + milliseconds(500)), 7, now);
    CHECK_FALSE(pool.take("bot", 2.5, 7, now)); // holds too little: left for smaller ones
    CHECK(pool.take("bot", 2.0, 7, now)->id == "t0");
    CHECK(pool.unused("bot") == std::pair<double, int>{2.0, 1});
    CHECK_FALSE(pool.take("bot", 1.0, 8, now)); // the generation moved on: dropped
    CHECK(pool.unused("bot").second == 0);
    CHECK(pool.take_dropped()["bot"] == std::vector<std::string>{"t1"});
    // A refill answered after a change is dropped at once.
    pool.refilled("bot", made(3, 2.0, 8, now + milliseconds(500)), 9, now);
    CHECK(pool.unused("bot").second == 0);
    CHECK(pool.take_dropped()["bot"].size() == 3);
}

TEST_CASE("dropping all or the expired leaves them to be given back", "[state]") {
    TicketPool pool(milliseconds(500));
    auto now = Clock::now();
    pool.refilled("a", made(2, 0, 1, now + milliseconds(100)), 1, now);
    pool.refilled("b", made(1, 0, 1, now + milliseconds(900)), 1, now);
    pool.drop_expired(now + milliseconds(200));
    auto dropped = pool.take_dropped();
    CHECK(dropped.size() == 1);
    CHECK(dropped["a"].size() == 2);
    pool.drop_all();
    CHECK(pool.take_dropped()["b"].size() == 1);
    CHECK(pool.unused("b").second == 0);
}
