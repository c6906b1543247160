#pragma once

#include "cache/file.hpp"
#include "cache/key.hpp"
#include "cache/store.hpp"
#include "core/context.hpp"
#include "openai/completion.hpp"

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace aimo::cache {

enum class Mode { off, exact, semantic };

/// `[cache]` in config.toml.
struct Settings {
    Mode mode = Mode::exact;
    int64_t ttl_seconds = 3600;          ///< 0: entries never expire
    size_t max_bytes = 64 * 1024 * 1024; ///< the memory budget (and what is loaded at start)
    bool shared = false;                 ///< one namespace for every agent
    bool sampled = false;                ///< also cache requests with temperature > 0 (or none)
    std::string embeddings;              ///< "provider/model" embedding the last user message
    double threshold = 0.95;             ///< least cosine similarity of a semantic hit
    std::string file; ///< the cache file; "off": memory only; empty: beside the database
};

/// The cache file `settings` name: `file`, or cache.db beside `database` when it is empty;
/// none (empty) for "off", or with neither a file nor a database.
std::filesystem::path file_path(const Settings& settings, const std::filesystem::path& database);

/// What the cache did with a request.
enum class Result { bypass, miss, hit, hit_semantic };
/// "bypass", "miss", "hit", "hit-semantic": the x-aimo-cache header's values.
std::string_view result_name(Result result);

/// The request's Cache-Control: `no-cache` skips the lookup (the answer is still stored),
/// `no-store` skips both.
struct Directives {
    bool no_cache = false;
    bool no_store = false;
};
Directives directives(std::string_view cache_control);

/// Embeds one text on behalf of `agent`; nullopt when it could not (the lookup is a miss).
using Embed = std::function<std::optional<std::vector<float>>(
    const std::string& text, const std::optional<std::string>& agent)>;

class Cache;

/// A miss's promise to fill its key: the answer as it reaches the client goes in here, and a
/// complete, successful one is stored. Requests with the same key wait for it meanwhile
/// (no stampede); dropping a Fill without a storable answer lets them go upstream.
class Fill {
public:
    ~Fill();
    Fill(const Fill&) = delete;
    Fill& operator=(const Fill&) = delete;

    /// Who answered: the provider and the model id it was asked for.
    void answered_by(std::string provider, std::string model);
    /// A whole JSON answer with its status.
    void json(int status, std::string_view body);
    /// One SSE event's data of a streamed answer.
    void event(std::string_view data);
    /// The stream has ended with `status` (not called for a stream cut short).
    void end(int status);
    /// aimo lowered the request's completion limit (a small budget): an answer cut there is
    /// not the request's own and is not stored.
    void limited() { m_key.length_ok = false; }

private:
    friend class Cache;
    struct Flight;
    Fill(Cache& cache, RequestKey key, std::string space, std::optional<std::string> agent,
         std::vector<float> embedding, std::shared_ptr<Flight> flight);
    void store(std::string completion, const openai::TokenUsage& usage);

    Cache& m_cache;
    RequestKey m_key;
    std::string m_space;
    std::optional<std::string> m_agent;
    std::vector<float> m_embedding;
    std::shared_ptr<Flight> m_flight;
    openai::StreamAssembler m_stream;
    std::string m_provider;
    std::string m_model;
    bool m_done = false;
};

/// What a lookup found.
struct Lookup {
    Result result = Result::bypass;
    std::shared_ptr<const Entry> entry; ///< the answer, on a hit
    double similarity = 1;              ///< on a semantic hit
    std::unique_ptr<Fill> fill;         ///< on a miss that may be stored
};

/// The response cache: exact answers by key, semantic ones by context and embedding, in
/// memory with a byte budget and persisted to a CacheFile when there is one. Thread-safe.
class Cache {
public:
    /// `file` may be null (memory only); its entries are loaded now. `embed` is needed for the
    /// semantic mode only. `clock` gives the time entries are stored and expire by.
    Cache(Settings settings, core::Clock clock, std::unique_ptr<CacheFile> file, Embed embed);
    ~Cache();
    Cache(const Cache&) = delete;
    Cache& operator=(const Cache&) = delete;

    const Settings& settings() const { return m_settings; }
    /// The namespace `agent`'s requests are stored in.
    std::string space_of(const std::optional<std::string>& agent) const;
    /// Looks `key` up for `agent`: a hit, or a miss that carries the Fill for its answer, or a
    /// bypass. While another request is filling the same key this waits for it.
    Lookup lookup(const RequestKey& key, const std::optional<std::string>& agent,
                  Directives directives);
    Store& store() { return m_store; }
    /// Returns once the file has every entry stored so far and pending embeddings are done.
    void flush();

private:
    friend class Fill;
    int64_t now() const;
    void put(std::shared_ptr<Entry> entry, const std::optional<std::string>& agent,
             const std::string& last_user);
    void land(const std::shared_ptr<Fill::Flight>& flight, const std::string& key);
    void embed_later(std::string key, std::string text, std::optional<std::string> agent);
    void run_embedder();

    Settings m_settings;
    core::Clock m_clock;
    Store m_store;
    std::unique_ptr<CacheFile> m_file;
    Embed m_embed;
    std::mutex m_mutex;
    std::unordered_map<std::string, std::shared_ptr<Fill::Flight>> m_flights;
    struct Job {
        std::string key;
        std::string text;
        std::optional<std::string> agent;
    };
    std::deque<Job> m_jobs;
    std::condition_variable m_jobs_wake;
    std::condition_variable m_jobs_done;
    bool m_embedding = false; ///< the embedder is working on a job
    bool m_stopping = false;
    std::thread m_embedder;
};

} // namespace aimo::cache
