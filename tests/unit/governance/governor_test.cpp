// The Governor's limits and budgets, without HTTP: tokens, model lists, rate windows,
// reservations, the completion cap, settling and what a reload of agents keeps.
#include "governance/agents.hpp"
#include "governance/governor.hpp"
#include "governance_helpers.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace aimo;
using governance::Admission;
using governance::Denial;
using test::status_of;
using test::tokens;
using Clock = std::chrono::steady_clock;

namespace {
struct Setup {
    test::TempDir dir;
    governance::Database db{dir / "aimo.db"};
    std::string create(const std::string& name, governance::AgentLimits limits = {}) {
        governance::Database cli(dir / "aimo.db"); // as `aimo agent` does, from outside
        return governance::AgentStore(cli).create(name, limits, "2026-12-01T00:00:00Z");
    }
};

// An admission of `caller` that reserved nothing (for settling tokens alone).
Admission admitted(const governance::Caller& caller) {
    Admission admission;
    admission.agent = caller.agent;
    return admission;
}

governance::Caller caller_of(governance::Governor& governor, const std::string& token) {
    auto who = governor.authenticate("Bearer " + token);
    REQUIRE(std::holds_alternative<governance::Caller>(who));
    return std::get<governance::Caller>(who);
}

} // namespace

TEST_CASE("tokens are checked only once an agent exists, then always", "[governor]") {
    Setup s;
    governance::LocalGovernor governor(s.db, false, std::chrono::milliseconds(0));
    auto nobody = governor.authenticate("");
    REQUIRE(std::holds_alternative<governance::Caller>(nobody));
    CHECK_FALSE(std::get<governance::Caller>(nobody).agent);

    auto token = s.create("bot", {{}, {}, {}, {"allowed"}});
    CHECK(std::get<Denial>(governor.authenticate("")).code == "missing_api_key");
    CHECK(std::get<Denial>(governor.authenticate("Bearer aimo_wrong")).code == "invalid_api_key");
    auto caller = caller_of(governor, token);
    CHECK(caller.agent == "bot");
    CHECK(governor.allows(caller, "allowed"));
    CHECK_FALSE(governor.allows(caller, "other"));
    CHECK(governor.precheck(caller, "other", Clock::now())->code == "model_not_allowed");
    {
        governance::Database cli(s.dir / "aimo.db");
        governance::AgentStore(cli).revoke("bot", "2026-12-01T01:00:00Z");
    }
    // A caller admitted a moment ago is refused once its token is revoked.
    CHECK(governor.precheck(caller, "allowed", Clock::now())->code == "revoked_api_key");
}

TEST_CASE("requests and tokens per minute are rolling windows", "[governor]") {
    Setup s;
    governance::LocalGovernor governor(s.db, false, std::chrono::milliseconds(0));
    auto caller = caller_of(governor, s.create("bot", {{}, 2, 100, {}}));
    auto start = Clock::now();
    CHECK(status_of(governor.admit(caller, "m", {}, start)) == 200);
    CHECK(status_of(governor.admit(caller, "m", {}, start)) == 200);
    auto third = governor.admit(caller, "m", {}, start + std::chrono::seconds(1));
    REQUIRE(status_of(third) == 429);
    CHECK(std::get<Denial>(third).headers.value("Retry-After") == "59");
    // A minute after the first, there is room again.
    CHECK(status_of(governor.admit(caller, "m", {}, start + std::chrono::seconds(61))) == 200);

    auto heavy = caller_of(governor, s.create("heavy", {{}, {}, 100, {}}));
    governor.settle(admitted(heavy), 150, 0, start);
    CHECK(std::get<Denial>(governor.admit(heavy, "m", {}, start)).message.find("150 used") !=
          std::string::npos);
    CHECK(status_of(governor.admit(heavy, "m", {}, start + std::chrono::seconds(60))) == 200);
}

TEST_CASE("a budget reserves worst cases, caps what it cannot cover, and refuses when spent",
          "[governor]") {
    Setup s;
    governance::LocalGovernor governor(s.db, false, std::chrono::milliseconds(0));
    auto caller = caller_of(governor, s.create("bot", {10.0, {}, {}, {}})); // ten tokens' worth
    auto now = Clock::now();
    auto first = std::get<Admission>(governor.admit(caller, "m", tokens(4), now));
    CHECK(first.reserved_usd == Approx(4));
    CHECK_FALSE(first.max_tokens);
    auto second = std::get<Admission>(governor.admit(caller, "m", tokens(4), now));
    // Two are in flight: what is left pays for 2 tokens, so the third is capped, not refused.
    auto third = std::get<Admission>(governor.admit(caller, "m", tokens(4), now));
    CHECK(third.max_tokens == 2);
    CHECK(third.reserved_usd == Approx(2));
    CHECK(std::get<Denial>(governor.admit(caller, "m", tokens(1), now)).code == "budget_exceeded");
    // No limit of its own: the default reserve is capped the same way.
    governor.settle(first, 1, 1.0, now); // it cost one token
    auto unlimited = std::get<Admission>(governor.admit(caller, "m", tokens(std::nullopt), now));
    CHECK(unlimited.max_tokens == 3);
    // Settled costs count at once, before the ledger commits them.
    governor.settle(second, 0, 0, now);
    governor.settle(third, 0, 0, now);
    governor.settle(unlimited, 0, 9.0, now); // an upstream overshot
    auto spent = governor.precheck(caller, "m", now);
    REQUIRE(spent);
    CHECK(spent->code == "budget_exceeded");
    CHECK(spent->message.find("$10.000000 of its $10.000000") != std::string::npos);
    // Not committed yet (no ledger here), it survives a reload of agents, which another
    // process's change causes: the database's total replaces only what was committed.
    s.create("other");
    CHECK(governor.precheck(caller, "m", now)->code == "budget_exceeded");
}

TEST_CASE("embeddings reserve their prompt only", "[governor]") {
    Setup s;
    governance::LocalGovernor governor(s.db, false, std::chrono::milliseconds(0));
    auto caller = caller_of(governor, s.create("bot", {0.001, {}, {}, {}}));
    governance::Estimate estimate;
    estimate.prompt_tokens = 500;
    estimate.price_in = 1.0; // $0.0005 for the prompt
    estimate.price_out = 1000.0;
    estimate.completes = false;
    auto admitted = std::get<Admission>(governor.admit(caller, "e", estimate, Clock::now()));
    CHECK(admitted.reserved_usd == Approx(0.0005));
    CHECK_FALSE(admitted.max_tokens);
    estimate.prompt_tokens = 5000; // $0.005: more than the budget
    CHECK(std::get<Denial>(governor.admit(caller, "e", estimate, Clock::now())).status == 402);
}
