#include "cache/store.hpp"

#include <cmath>

namespace aimo::cache {

size_t Entry::bytes() const {
    return key.size() + space.size() + context.size() + completion.size() + provider.size() +
           model.size() + embedding.size() * sizeof(float) + bookkeeping;
}

Store::Store(size_t max_bytes, int64_t ttl_seconds) : m_max_bytes(max_bytes), m_ttl(ttl_seconds) {}

void Store::erase(Order::iterator it) {
    const auto& entry = **it;
    if (!entry.context.empty()) {
        auto [begin, end] = m_by_context.equal_range(entry.context);
        for (auto at = begin; at != end; ++at) {
            if (at->second == entry.key) {
                m_by_context.erase(at);
                break;
            }
        }
    }
    m_bytes -= entry.bytes();
    m_by_key.erase(entry.key);
    m_order.erase(it);
}

std::shared_ptr<const Entry> Store::find(const std::string& key, int64_t now) {
    std::lock_guard lock(m_mutex);
    auto found = m_by_key.find(key);
    if (found == m_by_key.end()) {
        return nullptr;
    }
    auto it = found->second;
    if (m_ttl > 0 && now - (*it)->created >= m_ttl) {
        erase(it);
        return nullptr;
    }
    m_order.splice(m_order.begin(), m_order, it);
    return *it;
}

std::vector<std::shared_ptr<const Entry>>
Store::with_context(const std::string& context, const std::string& space, int64_t now) {
    std::lock_guard lock(m_mutex);
    std::vector<std::shared_ptr<const Entry>> out;
    auto [begin, end] = m_by_context.equal_range(context);
    for (auto at = begin; at != end; ++at) {
        auto found = m_by_key.find(at->second);
        if (found == m_by_key.end()) {
            continue;
        }
        const auto& entry = *found->second;
        if (entry->space == space && !entry->embedding.empty() &&
            (m_ttl == 0 || now - entry->created < m_ttl)) {
            out.push_back(entry);
        }
    }
    return out;
}

std::vector<std::string> Store::put(std::shared_ptr<const Entry> entry) {
    std::lock_guard lock(m_mutex);
    std::vector<std::string> evicted;
    if (auto found = m_by_key.find(entry->key); found != m_by_key.end()) {
        erase(found->second);
    }
    size_t size = entry->bytes();
    if (size > m_max_bytes) {
        evicted.push_back(entry->key);
        return evicted;
    }
    while (!m_order.empty() && m_bytes + size > m_max_bytes) {
        evicted.push_back(m_order.back()->key);
        erase(std::prev(m_order.end()));
    }
    m_bytes += size;
    m_order.push_front(entry);
    m_by_key[entry->key] = m_order.begin();
    if (!entry->context.empty()) {
        m_by_context.emplace(entry->context, entry->key);
    }
    return evicted;
}

std::shared_ptr<const Entry> Store::set_embedding(const std::string& key,
                                                  std::vector<float> vector) {
    std::lock_guard lock(m_mutex);
    auto found = m_by_key.find(key);
    if (found == m_by_key.end()) {
        return nullptr;
    }
    auto it = found->second;
    auto updated = std::make_shared<Entry>(**it);
    updated->embedding = std::move(vector);
    m_bytes += updated->bytes() - (*it)->bytes();
    *it = updated;
    return updated;
}

size_t Store::clear(const std::optional<std::string>& space) {
    std::lock_guard lock(m_mutex);
    size_t removed = 0;
    for (auto it = m_order.begin(); it != m_order.end();) {
        auto next = std::next(it);
        if (!space || (*it)->space == *space) {
            erase(it);
            ++removed;
        }
        it = next;
    }
    return removed;
}

Totals Store::totals() const {
    std::lock_guard lock(m_mutex);
    return {m_order.size(), m_bytes};
}

std::map<std::string, Totals> Store::by_space() const {
    std::lock_guard lock(m_mutex);
    std::map<std::string, Totals> out;
    for (const auto& entry : m_order) {
        auto& totals = out[entry->space];
        ++totals.entries;
        totals.bytes += entry->bytes();
    }
    return out;
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.empty() || a.size() != b.size()) {
        return 0;
    }
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        dot += static_cast<double>(a[i]) * b[i];
        na += static_cast<double>(a[i]) * a[i];
        nb += static_cast<double>(b[i]) * b[i];
    }
    return na == 0 || nb == 0 ? 0 : dot / (std::sqrt(na) * std::sqrt(nb));
}

} // namespace aimo::cache
