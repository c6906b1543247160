#pragma once

#include "openai/usage.hpp"

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace aimo::cache {

/// One stored answer: a complete chat completion, whatever shape it arrived in.
struct Entry {
    std::string key;     ///< the exact key (cache::RequestKey::exact)
    std::string space;   ///< its namespace: an agent's name, "-" (no agent) or "*" (shared)
    std::string context; ///< the semantic context key; empty when it has none
    std::vector<float> embedding; ///< of the last user message; empty until known
    std::string completion;       ///< the chat completion as JSON text
    openai::TokenUsage usage;     ///< what the answer cost upstream
    std::string provider;         ///< who answered, to price what a hit saves
    std::string model;            ///< the model id that provider answered with
    int64_t created = 0;          ///< unix seconds

    /// The fixed allowance per entry for the list node, the two map nodes and the shared_ptr's
    /// control block around it.
    static constexpr size_t bookkeeping = 256;
    /// What the entry counts against the byte budget: its text, its vector and `bookkeeping`.
    size_t bytes() const;
};

/// Bytes, entries.
struct Totals {
    size_t entries = 0;
    size_t bytes = 0;
};

/// The answers in memory: a byte budget with least-recently-used eviction, a time to live,
/// and an index by semantic context. Entries are immutable once stored. Thread-safe.
class Store {
public:
    /// `ttl_seconds` 0: entries never expire.
    Store(size_t max_bytes, int64_t ttl_seconds);

    /// The entry stored under `key`, unless it expired by `now`; it becomes the most recent.
    std::shared_ptr<const Entry> find(const std::string& key, int64_t now);
    /// The live entries of `space` whose context is `context` and whose embedding is known.
    std::vector<std::shared_ptr<const Entry>> with_context(const std::string& context,
                                                           const std::string& space, int64_t now);
    /// Stores `entry` (replacing one with its key) as the most recent, evicting the least
    /// recent ones until the budget holds; returns the keys that went. An entry larger than
    /// the whole budget is not stored (its own key is returned).
    std::vector<std::string> put(std::shared_ptr<const Entry> entry);
    /// Gives the entry under `key` its embedding; returns the updated entry, if still there.
    std::shared_ptr<const Entry> set_embedding(const std::string& key, std::vector<float> vector);
    /// Forgets every entry of `space` (all entries when nullopt); returns how many.
    size_t clear(const std::optional<std::string>& space);
    /// Entries and bytes, in all and by namespace.
    Totals totals() const;
    std::map<std::string, Totals> by_space() const;
    size_t max_bytes() const { return m_max_bytes; }

private:
    using Order = std::list<std::shared_ptr<const Entry>>;
    void erase(Order::iterator it); // lock held

    size_t m_max_bytes;
    int64_t m_ttl;
    mutable std::mutex m_mutex;
    Order m_order; // most recent first
    std::unordered_map<std::string, Order::iterator> m_by_key;
    std::unordered_multimap<std::string, std::string> m_by_context; // context -> key
    size_t m_bytes = 0;
};

/// Cosine similarity of two vectors of one length (0 when either is empty or zero).
double cosine(const std::vector<float>& a, const std::vector<float>& b);

} // namespace aimo::cache
