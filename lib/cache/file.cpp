#include "cache/file.hpp"

#include "core/error.hpp"
#include "governance/db.hpp"

#include <cstring>
#include <fmt/format.h>
#include <sqlite3.h>
#include <system_error>
#include <thread>

namespace aimo::cache {

namespace {
using governance::Statement;

constexpr int64_t application_id = 0x61696d63; // "aimc": tells a cache file from any other
constexpr int64_t schema_version = 1;
constexpr auto poll_interval = std::chrono::milliseconds(250);

constexpr const char* schema = R"(
    CREATE TABLE entries (
        key TEXT PRIMARY KEY,
        space TEXT NOT NULL,
        context TEXT NOT NULL,
        embedding BLOB,
        completion TEXT NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        usage_found INTEGER NOT NULL,
        provider TEXT NOT NULL,
        model TEXT NOT NULL,
        created INTEGER NOT NULL
    );
    CREATE INDEX entries_created ON entries(created);
    CREATE TABLE clears (id INTEGER PRIMARY KEY AUTOINCREMENT, space TEXT);
)";

void exec(sqlite3* db, const char* sql) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
        std::string text = message ? message : sqlite3_errmsg(db);
        sqlite3_free(message);
        throw core::Error(core::ErrorKind::io, "cache file: " + text);
    }
}

int64_t pragma(sqlite3* db, const char* name) {
    Statement statement(db, std::string("PRAGMA ") + name);
    return statement.step() ? statement.integer(0) : 0;
}

sqlite3* open_raw(const std::filesystem::path& path) {
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        std::string message = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close(db);
        throw core::Error(core::ErrorKind::io,
                          fmt::format("cannot open the cache file {}: {}", path.string(), message),
                          "check the directory's permissions, or set [cache] file = \"off\"");
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

// Checks (and on a new file creates) the schema; throws when the file is not a sound cache.
void prepare(sqlite3* db) {
    {
        Statement check(db, "PRAGMA quick_check");
        if (!check.step() || check.text(0) != "ok") {
            throw core::Error(core::ErrorKind::invalid_input, "it is damaged");
        }
    }
    int64_t id = pragma(db, "application_id");
    int64_t version = pragma(db, "user_version");
    if (id == 0 && version == 0) {
        // Several instances may open a new file at once: look again under the write lock, so
        // exactly one creates the schema and the others find it made.
        exec(db, "BEGIN IMMEDIATE");
        try {
            id = pragma(db, "application_id");
            version = pragma(db, "user_version");
            if (id == 0 && version == 0 && pragma(db, "page_count") <= 1) {
                exec(db, schema);
                exec(db, fmt::format("PRAGMA application_id = {}; PRAGMA user_version = {}",
                                     application_id, schema_version)
                             .c_str());
                id = application_id;
                version = schema_version;
            }
            exec(db, "COMMIT");
        } catch (...) {
            sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }
    if (id != application_id) {
        throw core::Error(core::ErrorKind::invalid_input, "it is not an aimo cache file");
    }
    if (version != schema_version) {
        throw core::Error(
            core::ErrorKind::invalid_input,
            fmt::format("it has layout {}, this aimo reads {}", version, schema_version));
    }
    exec(db, "PRAGMA journal_mode = WAL");
}

void remove_files(const std::filesystem::path& path) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        std::filesystem::remove(path.string() + suffix, ec);
    }
}

std::string vector_bytes(const std::vector<float>& vector) {
    return std::string(reinterpret_cast<const char*>(vector.data()), vector.size() * sizeof(float));
}

std::vector<float> bytes_vector(const std::string& bytes) {
    std::vector<float> vector(bytes.size() / sizeof(float));
    std::memcpy(vector.data(), bytes.data(), vector.size() * sizeof(float));
    return vector;
}

int64_t last_clear_id(sqlite3* db) {
    Statement last(db, "SELECT COALESCE(MAX(id), 0) FROM clears");
    return last.step() ? last.integer(0) : 0;
}
} // namespace

CacheFile::CacheFile(const std::filesystem::path& path, Warn warn) : m_warn(std::move(warn)) {
    open(path);
}

void CacheFile::open(const std::filesystem::path& path) {
    std::error_code ec;
    if (path.has_parent_path()) {
        std::filesystem::create_directories(path.parent_path(), ec);
    }
    m_db = open_raw(path);
    try {
        // Another instance creating the same file at this moment can make a step fail for a
        // while (locked, busy): that is no reason to discard what it is making. An error that
        // lasts (a file that is not a database) still leads to the discard below.
        for (int attempt = 1;; ++attempt) {
            try {
                prepare(m_db);
                break;
            } catch (const core::Error& e) {
                if (e.kind() != core::ErrorKind::io || attempt == 5) {
                    throw;
                }
                sqlite3_close(m_db);
                std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
                m_db = open_raw(path);
            }
        }
    } catch (const core::Error& e) {
        sqlite3_close(m_db);
        m_db = nullptr;
        if (m_warn) {
            m_warn(fmt::format("the cache file {} was discarded ({}); starting with an empty cache",
                               path.string(), e.what()));
        }
        remove_files(path);
        m_db = open_raw(path);
        prepare(m_db);
    }
    m_last_clear = last_clear_id(m_db);
}

CacheFile::~CacheFile() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    } else {
        std::vector<Op> ops;
        ops.swap(m_queue);
        write(ops);
    }
    sqlite3_close(m_db);
}

std::vector<Entry> CacheFile::load(int64_t now, int64_t ttl, size_t max_bytes) {
    std::vector<Entry> out;
    Statement rows(m_db, "SELECT key, space, context, embedding, completion, prompt_tokens, "
                         "completion_tokens, usage_found, provider, model, created FROM entries "
                         "WHERE ?1 = 0 OR created > ?2 ORDER BY created DESC");
    rows.bind(1, ttl).bind(2, now - ttl);
    size_t bytes = 0;
    while (rows.step()) {
        Entry entry;
        entry.key = rows.text(0);
        entry.space = rows.text(1);
        entry.context = rows.text(2);
        entry.embedding = bytes_vector(rows.blob(3));
        entry.completion = rows.text(4);
        entry.usage.prompt = rows.integer(5);
        entry.usage.completion = rows.integer(6);
        entry.usage.found = rows.integer(7) != 0;
        entry.provider = rows.text(8);
        entry.model = rows.text(9);
        entry.created = rows.integer(10);
        bytes += entry.bytes();
        if (bytes > max_bytes) {
            break;
        }
        out.push_back(std::move(entry));
    }
    return out;
}

void CacheFile::start(Cleared cleared) {
    m_cleared = std::move(cleared);
    m_data_version = pragma(m_db, "data_version");
    m_thread = std::thread([this] { run(); });
}

void CacheFile::put(std::shared_ptr<const Entry> entry) {
    {
        std::lock_guard lock(m_mutex);
        m_queue.emplace_back(std::move(entry));
        ++m_queued;
    }
    m_wake.notify_one();
}

void CacheFile::erase(std::vector<std::string> keys) {
    if (keys.empty()) {
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        m_queue.emplace_back(std::move(keys));
        ++m_queued;
    }
    m_wake.notify_one();
}

void CacheFile::flush() {
    std::unique_lock lock(m_mutex);
    uint64_t target = m_queued;
    if (!m_thread.joinable()) {
        std::vector<Op> ops;
        ops.swap(m_queue);
        lock.unlock();
        write(ops);
        return;
    }
    m_wake.notify_one();
    m_done.wait(lock, [&] { return m_written >= target; });
}

void CacheFile::run() {
    std::unique_lock lock(m_mutex);
    while (true) {
        m_wake.wait_for(lock, poll_interval, [&] { return m_stopping || !m_queue.empty(); });
        std::vector<Op> ops;
        ops.swap(m_queue);
        bool stopping = m_stopping;
        lock.unlock();
        write(ops);
        poll_clears();
        lock.lock();
        m_written += ops.size();
        m_done.notify_all();
        if (stopping && m_queue.empty()) {
            return;
        }
    }
}

void CacheFile::write(std::vector<Op>& ops) {
    if (ops.empty()) {
        return;
    }
    try {
        Statement begin(m_db, "BEGIN IMMEDIATE");
        begin.run();
        Statement insert(m_db,
                         "INSERT OR REPLACE INTO entries (key, space, context, embedding, "
                         "completion, prompt_tokens, completion_tokens, usage_found, "
                         "provider, model, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        Statement remove(m_db, "DELETE FROM entries WHERE key = ?");
        for (auto& op : ops) {
            if (auto* entry = std::get_if<std::shared_ptr<const Entry>>(&op)) {
                const Entry& e = **entry;
                insert.bind(1, e.key)
                    .bind(2, e.space)
                    .bind(3, e.context)
                    .bind_blob(4, vector_bytes(e.embedding))
                    .bind(5, e.completion)
                    .bind(6, e.usage.prompt)
                    .bind(7, e.usage.completion)
                    .bind(8, static_cast<int64_t>(e.usage.found ? 1 : 0))
                    .bind(9, e.provider)
                    .bind(10, e.model)
                    .bind(11, e.created);
                insert.run();
            } else {
                for (const auto& key : std::get<std::vector<std::string>>(op)) {
                    remove.bind(1, key);
                    remove.run();
                }
            }
        }
        Statement commit(m_db, "COMMIT");
        commit.run();
    } catch (const core::Error& e) {
        sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        if (m_warn) {
            m_warn(fmt::format("could not write the cache file: {} (the cache in memory is "
                               "unaffected)",
                               e.what()));
        }
    }
}

void CacheFile::poll_clears() {
    try {
        int64_t version = pragma(m_db, "data_version");
        if (version == m_data_version) {
            return;
        }
        m_data_version = version;
        Statement rows(m_db, "SELECT id, space FROM clears WHERE id > ? ORDER BY id");
        rows.bind(1, m_last_clear);
        while (rows.step()) {
            m_last_clear = rows.integer(0);
            if (m_cleared) {
                m_cleared(rows.is_null(1) ? std::nullopt
                                          : std::optional<std::string>(rows.text(1)));
            }
        }
    } catch (const core::Error& e) {
        if (m_warn) {
            m_warn(fmt::format("could not read the cache file: {}", e.what()));
        }
    }
}

std::map<std::string, Totals> file_totals(const std::filesystem::path& path) {
    CacheFile file(path, {});
    std::map<std::string, Totals> out;
    // The same sum as Entry::bytes(), over the stored columns (as bytes: length() of a text
    // counts characters).
    std::string sum;
    for (const char* column : {"key", "space", "context", "completion", "provider", "model"}) {
        sum += fmt::format("length(CAST({} AS BLOB)) + ", column);
    }
    Statement rows(file.m_db,
                   fmt::format("SELECT space, COUNT(*), SUM({}COALESCE(length(embedding), "
                               "0) + {}) FROM entries GROUP BY space",
                               sum, Entry::bookkeeping));
    while (rows.step()) {
        out[rows.text(0)] = {static_cast<size_t>(rows.integer(1)),
                             static_cast<size_t>(rows.integer(2))};
    }
    return out;
}

size_t file_clear(const std::filesystem::path& path, const std::optional<std::string>& space) {
    CacheFile file(path, {});
    Statement count(file.m_db, space ? "SELECT COUNT(*) FROM entries WHERE space = ?"
                                     : "SELECT COUNT(*) FROM entries");
    if (space) {
        count.bind(1, *space);
    }
    size_t removed = count.step() ? static_cast<size_t>(count.integer(0)) : 0;
    count.reset();
    exec(file.m_db, "BEGIN IMMEDIATE");
    Statement drop(file.m_db,
                   space ? "DELETE FROM entries WHERE space = ?" : "DELETE FROM entries");
    if (space) {
        drop.bind(1, *space);
    }
    drop.run();
    Statement note(file.m_db, "INSERT INTO clears (space) VALUES (?)");
    note.bind(1, space);
    note.run();
    exec(file.m_db, "COMMIT");
    return removed;
}

} // namespace aimo::cache
