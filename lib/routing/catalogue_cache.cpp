#include "routing/catalogue_cache.hpp"

namespace aimo::routing {

namespace {
constexpr auto failure_backoff = std::chrono::seconds(5);
}

std::shared_ptr<const CachedCatalogue> CatalogueCache::usable(bool& failing) const {
    auto now = std::chrono::steady_clock::now();
    bool backing_off = m_failure && now - m_failed_at < failure_backoff;
    failing = backing_off && !m_current;
    if (m_current && (now - m_current->fetched_at < m_ttl || backing_off)) {
        return m_current;
    }
    return nullptr;
}

std::shared_ptr<const CachedCatalogue> CatalogueCache::get() {
    bool failing = false;
    {
        std::lock_guard lock(m_mutex);
        if (auto entry = usable(failing)) {
            return entry;
        }
        if (failing) {
            throw *m_failure;
        }
    }
    std::lock_guard fetch_lock(m_fetch_mutex);
    {
        std::lock_guard lock(m_mutex);
        if (auto entry = usable(failing)) {
            return entry; // another thread refreshed while we waited
        }
        if (failing) {
            throw *m_failure; // … or failed
        }
    }
    try {
        auto entry = std::make_shared<CachedCatalogue>(m_fetch());
        entry->fetched_at = std::chrono::steady_clock::now();
        std::lock_guard lock(m_mutex);
        m_current = entry;
        m_failure.reset();
        return entry;
    } catch (const core::Error& e) {
        std::lock_guard lock(m_mutex);
        m_failure = e;
        m_failed_at = std::chrono::steady_clock::now();
        if (m_current) {
            return m_current;
        }
        throw;
    }
}

std::shared_ptr<const CachedCatalogue> CatalogueCache::get_if_available() noexcept {
    {
        std::lock_guard lock(m_mutex);
        bool failing = false;
        if (auto entry = usable(failing); entry || failing) {
            return entry;
        }
    }
    try {
        return get();
    } catch (...) {
        return nullptr;
    }
}

} // namespace aimo::routing
