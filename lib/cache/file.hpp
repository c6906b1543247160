#pragma once

#include "cache/store.hpp"

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

struct sqlite3;

namespace aimo::cache {

/// What `aimo cache stats` shows of a cache file: entries and bytes by namespace.
std::map<std::string, Totals> file_totals(const std::filesystem::path& path);
/// `aimo cache clear`: removes the entries of `space` (all when nullopt) from the file and
/// tells a running proxy to forget them too; returns how many entries went.
size_t file_clear(const std::filesystem::path& path, const std::optional<std::string>& space);

/// The cache's file: an SQLite database of its own (never the ledger's, so that discarding it
/// can lose nothing else). Writes go through a writer thread: a request never waits for the
/// disk. Other processes (`aimo cache clear`) leave a row in its `clears` table; the writer
/// notices within a quarter of a second and passes it on. Thread-safe.
class CacheFile {
public:
    using Warn = std::function<void(const std::string&)>;
    /// A clear made by another process: a namespace, or every one (nullopt).
    using Cleared = std::function<void(const std::optional<std::string>& space)>;

    /// Opens `path`, creating it (and its directory) when missing. A file that is not a cache
    /// of this version, or is damaged, is discarded with a warning and started afresh; only a
    /// file that cannot be created throws core::Error(io).
    CacheFile(const std::filesystem::path& path, Warn warn);
    ~CacheFile();
    CacheFile(const CacheFile&) = delete;
    CacheFile& operator=(const CacheFile&) = delete;

    /// The entries that are live at `now` (ttl 0: all), most recently stored first, until
    /// `max_bytes` is reached.
    std::vector<Entry> load(int64_t now, int64_t ttl, size_t max_bytes);
    /// Starts the writer; `cleared` hears of clears by other processes from then on.
    void start(Cleared cleared);
    /// Queues an entry to store (replacing one with its key).
    void put(std::shared_ptr<const Entry> entry);
    /// Queues the removal of entries.
    void erase(std::vector<std::string> keys);
    /// Returns once everything queued before the call is written.
    void flush();

private:
    friend std::map<std::string, Totals> file_totals(const std::filesystem::path& path);
    friend size_t file_clear(const std::filesystem::path& path,
                             const std::optional<std::string>& space);
    using Op = std::variant<std::shared_ptr<const Entry>, std::vector<std::string>>;
    void open(const std::filesystem::path& path);
    void run();
    void write(std::vector<Op>& ops);
    void poll_clears();

    Warn m_warn;
    sqlite3* m_db = nullptr;
    Cleared m_cleared;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    std::vector<Op> m_queue;
    uint64_t m_queued = 0;
    uint64_t m_written = 0;
    bool m_stopping = false;
    int64_t m_data_version = -1;
    int64_t m_last_clear = 0;
    std::thread m_thread;
};

} // namespace aimo::cache
