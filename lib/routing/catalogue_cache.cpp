#include "routing/catalogue_cache.hpp"

#include "core/error.hpp"

namespace aimo::routing {

std::shared_ptr<const CachedCatalogue> CatalogueCache::get() {
    auto fresh = [this](const std::shared_ptr<const CachedCatalogue>& entry) {
        return entry && std::chrono::steady_clock::now() - entry->fetched_at < m_ttl;
    };
    {
        std::lock_guard lock(m_mutex);
        if (fresh(m_current)) {
            return m_current;
        }
    }
    std::lock_guard fetch_lock(m_fetch_mutex);
    std::shared_ptr<const CachedCatalogue> previous;
    {
        std::lock_guard lock(m_mutex);
        if (fresh(m_current)) {
            return m_current; // another thread refreshed while we waited
        }
        previous = m_current;
    }
    try {
        auto entry = std::make_shared<CachedCatalogue>(m_fetch());
        entry->fetched_at = std::chrono::steady_clock::now();
        std::lock_guard lock(m_mutex);
        m_current = entry;
        return entry;
    } catch (const core::Error&) {
        if (previous) {
            return previous;
        }
        throw;
    }
}

} // namespace aimo::routing
