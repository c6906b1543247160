#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace aimo::governance {

/// The file the `database` setting names; throws core::Error(usage) when it is "off" or empty.
std::filesystem::path database_path(const std::string& setting);

/// One prepared SQLite statement. Values bind by 1-based position; rows are read after step().
class Statement {
public:
    Statement(sqlite3* db, std::string_view sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& bind(int index, std::string_view text);
    /// Binds `text` without copying it: it must stay alive until the statement is reset.
    Statement& bind_unowned(int index, std::string_view text);
    Statement& bind(int index, int64_t value);
    Statement& bind(int index, double value);
    Statement& bind_null(int index);
    /// Binds bytes as a BLOB (copied).
    Statement& bind_blob(int index, std::string_view bytes);
    /// Binds an optional: the value or NULL.
    template <typename T> Statement& bind(int index, const std::optional<T>& value) {
        return value ? bind(index, *value) : bind_null(index);
    }
    /// Advances to the next row: true while there is one. Throws core::Error(io) on failure.
    bool step();
    /// Runs to completion (for statements without rows); resets for reuse.
    void run();
    void reset();

    std::string text(int column) const;
    int64_t integer(int column) const;
    double real(int column) const;
    bool is_null(int column) const;
    /// A BLOB column's bytes.
    std::string blob(int column) const;

private:
    sqlite3* m_db;
    sqlite3_stmt* m_stmt = nullptr;
};

/// An SQLite database file in WAL mode (readers never block the writer, a crash never corrupts
/// it), with a busy timeout so several aimo processes can share it, and numbered migrations.
class Database {
public:
    /// Opens (creating it and its directory, mode 0700, when missing) and migrates to the
    /// newest schema. Throws core::Error(io) naming the file.
    explicit Database(const std::filesystem::path& path);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    /// Runs one or more statements without results.
    void exec(std::string_view sql);
    sqlite3* handle() const { return m_db; }
    const std::filesystem::path& path() const { return m_path; }
    /// Changes whenever another connection commits (PRAGMA data_version).
    int64_t data_version();
    /// Rows changed by the last statement on this connection.
    int64_t changes() const;
    /// The schema version after migrating.
    int schema_version();

private:
    void migrate();

    std::filesystem::path m_path;
    sqlite3* m_db = nullptr;
    std::unique_ptr<Statement> m_data_version; // asked before every governed request
};

/// BEGIN IMMEDIATE … COMMIT, rolled back unless commit() is called.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    void commit();

private:
    Database& m_db;
    bool m_done = false;
};

} // namespace aimo::governance
