#include "governance/agents.hpp"
#include "governance/db.hpp"
#include "governance/ledger.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <sqlite3.h>

using namespace aimo;

namespace {
// A database as the first schema left it: two agents and three records, at user_version 1.
void write_version_1(const std::filesystem::path& path) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const char* sql = R"(
    CREATE TABLE agents (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
        token_hash TEXT NOT NULL UNIQUE, token_hint TEXT NOT NULL, budget_usd REAL, rpm INTEGER,
        tpm INTEGER, models TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL, revoked_at TEXT);
    CREATE TABLE requests (seq INTEGER PRIMARY KEY, time TEXT NOT NULL,
        request_id TEXT NOT NULL, agent TEXT NOT NULL, model TEXT NOT NULL,
        provider TEXT NOT NULL, status INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL, latency_us INTEGER NOT NULL,
        prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
    CREATE INDEX requests_agent ON requests(agent);
    INSERT INTO agents (name, token_hash, token_hint, created_at)
        VALUES ('a', 'h1', 'aimo_x', 't'), ('b', 'h2', 'aimo_y', 't');
    INSERT INTO requests VALUES
        (1, 't', 'r1', 'a', 'm', 'p', 200, 1, 1, 0.25, 1, 'x', 'y'),
        (2, 't', 'r2', 'a', 'm', 'p', 200, 1, 1, 0.50, 1, 'x', 'y'),
        (3, 't', 'r3', '-', 'm', 'p', 200, 1, 1, 9.00, 1, 'x', 'y');
    PRAGMA user_version = 1;
    )";
    REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
}

double spent(governance::Database& db, const std::string& name) {
    return governance::AgentStore(db).find(name)->spent_usd;
}
} // namespace

TEST_CASE("a first-schema database gains running spending totals from its records", "[migration]") {
    test::TempDir dir;
    write_version_1(dir / "aimo.db");
    governance::Database db(dir / "aimo.db");
    CHECK(db.schema_version() == 7);
    CHECK(governance::AgentStore(db).find("a")->limits.weight == 1);
    CHECK(spent(db, "a") == Approx(0.75));
    CHECK(spent(db, "b") == 0);

    // From here the ledger keeps the totals, in the same transaction as the records.
    {
        governance::Ledger ledger(db);
        governance::UsageRecord record{"t", "r4", "b", "m", "p", 200, 1, 1, 0.125, 1};
        ledger.submit(record);
        record.agent = "b";
        record.request_id = "r5";
        ledger.submit(record);
        record.agent = "-";
        ledger.submit(record);
        ledger.flush();
    }
    CHECK(spent(db, "a") == Approx(0.75));
    CHECK(spent(db, "b") == Approx(0.25));
}
