#include "governance/db.hpp"

#include "core/error.hpp"

#include <fmt/format.h>
#include <sqlite3.h>
#include <system_error>

namespace aimo::governance {

using core::Error;
using core::ErrorKind;

namespace {
[[noreturn]] void fail(sqlite3* db, std::string_view what) {
    throw Error(ErrorKind::io, fmt::format("database error ({}): {}", what, sqlite3_errmsg(db)),
                "check that the data directory is writable and the disk is not full; "
                "'aimo audit verify' checks the records");
}

// Each migration moves the schema one version up; never edit one that has shipped.
constexpr const char* migrations[] = {
    // 1: agents, and one append-only, hash-chained record per request (ledger and audit trail).
    R"(
    CREATE TABLE agents (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        token_hash TEXT NOT NULL UNIQUE,
        token_hint TEXT NOT NULL,
        budget_usd REAL,
        rpm INTEGER,
        tpm INTEGER,
        models TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE requests (
        seq INTEGER PRIMARY KEY,
        time TEXT NOT NULL,
        request_id TEXT NOT NULL,
        agent TEXT NOT NULL,
        model TEXT NOT NULL,
        provider TEXT NOT NULL,
        status INTEGER NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        cost_usd REAL NOT NULL,
        latency_us INTEGER NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE INDEX requests_agent ON requests(agent);
    CREATE TRIGGER requests_append_only_update BEFORE UPDATE ON requests
        BEGIN SELECT RAISE(ABORT, 'requests are append-only'); END;
    CREATE TRIGGER requests_append_only_delete BEFORE DELETE ON requests
        BEGIN SELECT RAISE(ABORT, 'requests are append-only'); END;
    )",
    // 2: each agent's spending kept as a running total, updated in the same transaction as its
    // records, instead of summed over all of them whenever agents are read (the proxy rereads
    // agents when another process changes one; with millions of records that sum stalled it).
    // The index only served that sum; without it every record is cheaper to append.
    R"(
    ALTER TABLE agents ADD COLUMN spent_usd REAL NOT NULL DEFAULT 0;
    UPDATE agents SET spent_usd =
        (SELECT COALESCE(SUM(cost_usd), 0) FROM requests WHERE requests.agent = agents.name);
    DROP INDEX requests_agent;
    )",
    // 3: a request whose real cost passed what was reserved for it (an upstream that ignored
    // max_tokens) is flagged; refusals are counted per minute instead of stored one by one, so
    // a client hammering a closed door cannot grow the database without bound.
    R"(
    ALTER TABLE requests ADD COLUMN over_reservation INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE denials (
        minute TEXT NOT NULL,
        agent TEXT NOT NULL,
        status INTEGER NOT NULL,
        code TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (minute, agent, status, code)
    ) WITHOUT ROWID;
    )",
    // 4: the response cache's part in each request (a hit and what it saved), and which client
    // sent it, for `aimo stats --by client`.
    R"(
    ALTER TABLE requests ADD COLUMN cache TEXT NOT NULL DEFAULT '';
    ALTER TABLE requests ADD COLUMN saved_usd REAL NOT NULL DEFAULT 0;
    ALTER TABLE requests ADD COLUMN client TEXT NOT NULL DEFAULT '';
    )",
    // 5: the scheduler: each agent's share of a busy provider, and how long each request
    // waited in aimo's queue.
    R"(
    ALTER TABLE agents ADD COLUMN weight INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE requests ADD COLUMN queue_us INTEGER NOT NULL DEFAULT 0;
    )",
    // 6: which API each request was asked in, for `aimo stats --by dialect`.
    R"(
    ALTER TABLE requests ADD COLUMN dialect TEXT NOT NULL DEFAULT '';
    )",
    // 7: what an owner did from the dashboard (created or revoked an agent, changed its
    // limits), append-only and hash-chained like the requests, so `aimo audit verify` checks it.
    R"(
    CREATE TABLE owner_actions (
        seq INTEGER PRIMARY KEY,
        time TEXT NOT NULL,
        action TEXT NOT NULL,
        agent TEXT NOT NULL,
        detail TEXT NOT NULL,
        origin TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    );
    CREATE TRIGGER owner_actions_append_only_update BEFORE UPDATE ON owner_actions
        BEGIN SELECT RAISE(ABORT, 'owner actions are append-only'); END;
    CREATE TRIGGER owner_actions_append_only_delete BEFORE DELETE ON owner_actions
        BEGIN SELECT RAISE(ABORT, 'owner actions are append-only'); END;
    )",
};
} // namespace

std::filesystem::path database_path(const std::string& setting) {
    if (setting == "off") {
        throw core::Error(core::ErrorKind::usage,
                          "the usage database is switched off (database = off)",
                          "unset AIMO_DATABASE / --database, or point it at a file");
    }
    if (setting.empty()) {
        throw core::Error(core::ErrorKind::usage, "the database setting is empty",
                          "point --database / AIMO_DATABASE at a file, or say 'off'");
    }
    return setting;
}

Statement::Statement(sqlite3* db, std::string_view sql) : m_db(db) {
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &m_stmt, nullptr) !=
        SQLITE_OK) {
        fail(db, "prepare");
    }
}

Statement::~Statement() {
    sqlite3_finalize(m_stmt);
}

Statement& Statement::bind(int index, std::string_view text) {
    sqlite3_bind_text(m_stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement& Statement::bind_unowned(int index, std::string_view text) {
    sqlite3_bind_text(m_stmt, index, text.data(), static_cast<int>(text.size()), SQLITE_STATIC);
    return *this;
}

Statement& Statement::bind(int index, int64_t value) {
    sqlite3_bind_int64(m_stmt, index, value);
    return *this;
}

Statement& Statement::bind(int index, double value) {
    sqlite3_bind_double(m_stmt, index, value);
    return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
    sqlite3_bind_blob(m_stmt, index, bytes.data(), static_cast<int>(bytes.size()),
                      SQLITE_TRANSIENT);
    return *this;
}

std::string Statement::blob(int column) const {
    const void* bytes = sqlite3_column_blob(m_stmt, column);
    int size = sqlite3_column_bytes(m_stmt, column);
    return bytes ? std::string(static_cast<const char*>(bytes), static_cast<size_t>(size))
                 : std::string();
}

Statement& Statement::bind_null(int index) {
    sqlite3_bind_null(m_stmt, index);
    return *this;
}

bool Statement::step() {
    int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    sqlite3_reset(m_stmt);
    fail(m_db, "step");
}

void Statement::run() {
    while (step()) {
    }
    reset();
}

void Statement::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

std::string Statement::text(int column) const {
    const auto* text = sqlite3_column_text(m_stmt, column);
    return text ? std::string(reinterpret_cast<const char*>(text)) : std::string();
}

int64_t Statement::integer(int column) const {
    return sqlite3_column_int64(m_stmt, column);
}

double Statement::real(int column) const {
    return sqlite3_column_double(m_stmt, column);
}

bool Statement::is_null(int column) const {
    return sqlite3_column_type(m_stmt, column) == SQLITE_NULL;
}

Database::Database(const std::filesystem::path& path) : m_path(path) {
    std::error_code ec;
    if (!path.parent_path().empty() && !std::filesystem::exists(path.parent_path(), ec)) {
        std::filesystem::create_directories(path.parent_path(), ec);
        std::filesystem::permissions(path.parent_path(), std::filesystem::perms::owner_all, ec);
    }
    if (sqlite3_open_v2(path.c_str(), &m_db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string message = m_db ? sqlite3_errmsg(m_db) : "out of memory";
        sqlite3_close(m_db);
        throw Error(ErrorKind::io, fmt::format("cannot open {}: {}", path.string(), message),
                    "check that the directory exists and is writable");
    }
    sqlite3_busy_timeout(m_db, 5000);
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    migrate();
}

Database::~Database() {
    m_data_version.reset();
    sqlite3_close_v2(m_db);
}

void Database::exec(std::string_view sql) {
    std::string text(sql);
    char* message = nullptr;
    if (sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        std::string what = message ? message : "unknown";
        sqlite3_free(message);
        throw Error(ErrorKind::io, fmt::format("database error in {}: {}", m_path.string(), what),
                    "check that the data directory is writable and the disk is not full");
    }
}

int64_t Database::changes() const {
    return sqlite3_changes64(m_db);
}

int Database::schema_version() {
    Statement version(m_db, "PRAGMA user_version");
    version.step();
    return static_cast<int>(version.integer(0));
}

int64_t Database::data_version() {
    if (!m_data_version) {
        m_data_version = std::make_unique<Statement>(m_db, "PRAGMA data_version");
    }
    m_data_version->step();
    int64_t version = m_data_version->integer(0);
    m_data_version->reset();
    return version;
}

void Database::migrate() {
    Transaction transaction(*this);
    int current = schema_version();
    int newest = static_cast<int>(std::size(migrations));
    if (current > newest) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{} has schema version {}, newer than this aimo knows ({})",
                                m_path.string(), current, newest),
                    "upgrade aimo");
    }
    for (int version = current; version < newest; ++version) {
        exec(migrations[version]);
        exec(fmt::format("PRAGMA user_version = {}", version + 1));
    }
    transaction.commit();
}

Transaction::Transaction(Database& db) : m_db(db) {
    m_db.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
    if (!m_done) {
        try {
            m_db.exec("ROLLBACK");
        } catch (const Error&) {
        }
    }
}

void Transaction::commit() {
    m_db.exec("COMMIT");
    m_done = true;
}

} // namespace aimo::governance
