#include "cache/cache.hpp"

#include "core/headers.hpp"
#include "openai/usage.hpp"

#include <nlohmann/json.hpp>

namespace aimo::cache {

namespace {
// How long a request waits for an identical one in flight before going upstream itself: long
// enough for most answers, short of the first-byte watchdogs of agent runtimes (OpenClaw's is
// 120 s), since a waiting request sends nothing.
constexpr auto flight_wait = std::chrono::seconds(60);
} // namespace

std::filesystem::path file_path(const Settings& settings, const std::filesystem::path& database) {
    if (settings.file == "off") {
        return {};
    }
    if (!settings.file.empty()) {
        return settings.file;
    }
    return database.empty() ? std::filesystem::path() : database.parent_path() / "cache.db";
}

std::string_view result_name(Result result) {
    switch (result) {
    case Result::miss:
        return "miss";
    case Result::hit:
        return "hit";
    case Result::hit_semantic:
        return "hit-semantic";
    default:
        return "bypass";
    }
}

Directives directives(std::string_view cache_control) {
    Directives out;
    core::for_each_list_item(cache_control, [&](std::string_view token) {
        out.no_cache = out.no_cache || core::ascii_iequals(token, "no-cache");
        out.no_store = out.no_store || core::ascii_iequals(token, "no-store");
    });
    return out;
}

struct Fill::Flight {
    bool landed = false;
    std::condition_variable landing;
};

Fill::Fill(Cache& cache, RequestKey key, std::string space, std::optional<std::string> agent,
           std::vector<float> embedding, std::shared_ptr<Flight> flight)
    : m_cache(cache), m_key(std::move(key)), m_space(std::move(space)), m_agent(std::move(agent)),
      m_embedding(std::move(embedding)), m_flight(std::move(flight)) {}

Fill::~Fill() {
    if (m_flight) {
        m_cache.land(m_flight, m_key.exact);
    }
}

void Fill::answered_by(std::string provider, std::string model) {
    m_provider = std::move(provider);
    m_model = std::move(model);
}

void Fill::json(int status, std::string_view body) {
    if (m_done || status != 200) {
        m_done = true;
        return;
    }
    m_done = true;
    auto completion = nlohmann::json::parse(body, nullptr, false);
    // Some OpenAI-compatible servers leave "object" out; none names another kind here.
    if (!completion.is_object() ||
        completion.value("object", "chat.completion") != "chat.completion" ||
        !openai::finished_naturally(completion, m_key.length_ok)) {
        return;
    }
    store(std::string(body), openai::usage_from_json(body));
}

void Fill::event(std::string_view data) {
    if (!m_done) {
        m_stream.add(data);
    }
}

void Fill::end(int status) {
    if (m_done) {
        return;
    }
    m_done = true;
    if (status != 200 || !m_stream.complete()) {
        return;
    }
    auto completion = m_stream.completion();
    if (!openai::finished_naturally(completion, m_key.length_ok)) {
        return;
    }
    std::string text = completion.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    store(std::move(text), openai::usage_from_json(text));
}

void Fill::store(std::string completion, const openai::TokenUsage& usage) {
    auto entry = std::make_shared<Entry>();
    entry->key = m_key.exact;
    entry->space = m_space;
    entry->context = m_cache.m_settings.mode == Mode::semantic ? m_key.context : std::string();
    entry->embedding = std::move(m_embedding);
    entry->completion = std::move(completion);
    entry->usage = usage;
    entry->provider = m_provider;
    entry->model = m_model;
    entry->created = m_cache.now();
    m_cache.put(std::move(entry), m_agent, m_key.last_user);
    m_cache.land(m_flight, m_key.exact);
    m_flight.reset();
}

Cache::Cache(Settings settings, core::Clock clock, std::unique_ptr<CacheFile> file, Embed embed)
    : m_settings(std::move(settings)), m_clock(std::move(clock)),
      m_store(m_settings.max_bytes, m_settings.ttl_seconds), m_file(std::move(file)),
      m_embed(std::move(embed)) {
    if (m_file) {
        // Oldest first, so the most recent end up the most recently used.
        auto entries = m_file->load(now(), m_settings.ttl_seconds, m_settings.max_bytes);
        for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
            m_store.put(std::make_shared<const Entry>(std::move(*it)));
        }
        m_file->start([this](const std::optional<std::string>& space) { m_store.clear(space); });
    }
    if (m_settings.mode == Mode::semantic && m_embed) {
        m_embedder = std::thread([this] { run_embedder(); });
    }
}

Cache::~Cache() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_jobs_wake.notify_all();
    if (m_embedder.joinable()) {
        m_embedder.join();
    }
}

int64_t Cache::now() const {
    auto time = m_clock ? m_clock() : std::chrono::system_clock::now();
    return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

std::string Cache::space_of(const std::optional<std::string>& agent) const {
    return m_settings.shared ? std::string("*") : agent.value_or("-");
}

Lookup Cache::lookup(const RequestKey& key, const std::optional<std::string>& agent,
                     Directives directives) {
    Lookup out;
    if (m_settings.mode == Mode::off || !key.cacheable || directives.no_store) {
        return out;
    }
    std::string space = space_of(agent);
    std::shared_ptr<Fill::Flight> flight;
    {
        std::unique_lock lock(m_mutex);
        auto deadline = std::chrono::steady_clock::now() + flight_wait;
        while (true) {
            if (!directives.no_cache) {
                if (auto entry = m_store.find(key.exact, now())) {
                    out.result = Result::hit;
                    out.entry = std::move(entry);
                    return out;
                }
            }
            auto found = m_flights.find(key.exact);
            if (found == m_flights.end()) {
                flight = std::make_shared<Fill::Flight>();
                m_flights.emplace(key.exact, flight);
                break;
            }
            if (directives.no_cache) {
                break; // it goes upstream anyway; the request in flight fills the key
            }
            auto other = found->second;
            if (!other->landing.wait_until(lock, deadline, [&] { return other->landed; })) {
                break; // waited long enough: go upstream without filling
            }
        }
    }
    std::vector<float> embedding;
    if (m_settings.mode == Mode::semantic && m_embed && !key.context.empty() &&
        !directives.no_cache) {
        auto candidates = m_store.with_context(key.context, space, now());
        if (!candidates.empty()) {
            // Only when there is something to compare with does the client wait for this.
            if (auto vector = m_embed(key.last_user, agent)) {
                embedding = std::move(*vector);
                double best = 0;
                std::shared_ptr<const Entry> chosen;
                for (const auto& candidate : candidates) {
                    double similarity = cosine(embedding, candidate->embedding);
                    if (similarity > best) {
                        best = similarity;
                        chosen = candidate;
                    }
                }
                if (chosen && best >= m_settings.threshold) {
                    if (flight) {
                        land(flight, key.exact);
                    }
                    out.result = Result::hit_semantic;
                    out.entry = std::move(chosen);
                    out.similarity = best;
                    return out;
                }
            }
        }
    }
    out.result = Result::miss;
    if (flight) {
        out.fill = std::unique_ptr<Fill>(
            new Fill(*this, key, std::move(space), agent, std::move(embedding), flight));
    }
    return out;
}

void Cache::land(const std::shared_ptr<Fill::Flight>& flight, const std::string& key) {
    if (!flight) {
        return;
    }
    std::lock_guard lock(m_mutex);
    if (flight->landed) {
        return;
    }
    flight->landed = true;
    auto found = m_flights.find(key);
    if (found != m_flights.end() && found->second == flight) {
        m_flights.erase(found);
    }
    flight->landing.notify_all();
}

void Cache::put(std::shared_ptr<Entry> entry, const std::optional<std::string>& agent,
                const std::string& last_user) {
    bool needs_vector =
        !entry->context.empty() && entry->embedding.empty() && m_embed && !last_user.empty();
    std::string key = entry->key;
    std::shared_ptr<const Entry> stored = entry;
    auto evicted = m_store.put(stored);
    if (m_file) {
        m_file->erase(evicted);
        m_file->put(stored);
    }
    if (needs_vector) {
        embed_later(std::move(key), last_user, agent);
    }
}

void Cache::embed_later(std::string key, std::string text, std::optional<std::string> agent) {
    {
        std::lock_guard lock(m_mutex);
        m_jobs.push_back({std::move(key), std::move(text), std::move(agent)});
    }
    m_jobs_wake.notify_one();
}

void Cache::run_embedder() {
    std::unique_lock lock(m_mutex);
    while (true) {
        m_jobs_wake.wait(lock, [&] { return m_stopping || !m_jobs.empty(); });
        if (m_stopping) {
            return;
        }
        Job job = std::move(m_jobs.front());
        m_jobs.pop_front();
        m_embedding = true;
        lock.unlock();
        if (auto vector = m_embed(job.text, job.agent)) {
            if (auto updated = m_store.set_embedding(job.key, std::move(*vector));
                updated && m_file) {
                m_file->put(updated);
            }
        }
        lock.lock();
        m_embedding = false;
        m_jobs_done.notify_all();
    }
}

void Cache::flush() {
    {
        std::unique_lock lock(m_mutex);
        m_jobs_done.wait(
            lock, [&] { return !m_embedder.joinable() || (m_jobs.empty() && !m_embedding); });
    }
    if (m_file) {
        m_file->flush();
    }
}

} // namespace aimo::cache
