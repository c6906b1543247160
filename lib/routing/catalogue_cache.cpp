#include "routing/catalogue_cache.hpp"

namespace aimo::routing {

namespace {
constexpr auto failure_backoff = std::chrono::seconds(5);
}

std::shared_ptr<const CachedCatalogue> CatalogueCache::get() {
    // Serves what is cached while it is fresh, or while a refresh failed only moments ago.
    auto cached = [this]() -> std::shared_ptr<const CachedCatalogue> {
        auto now = std::chrono::steady_clock::now();
        bool backing_off = m_failure && now - m_failed_at < failure_backoff;
        if (m_current && (now - m_current->fetched_at < m_ttl || backing_off)) {
            return m_current;
        }
        if (!m_current && backing_off) {
            throw *m_failure;
        }
        return nullptr;
    };
    {
        std::lock_guard lock(m_mutex);
        if (auto entry = cached()) {
            return entry;
        }
    }
    std::lock_guard fetch_lock(m_fetch_mutex);
    {
        std::lock_guard lock(m_mutex);
        if (auto entry = cached()) {
            return entry; // another thread refreshed (or failed) while we waited
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
        auto now = std::chrono::steady_clock::now();
        if (m_current && now - m_current->fetched_at < m_ttl) {
            return m_current;
        }
        if (m_failure && now - m_failed_at < failure_backoff) {
            return m_current; // nullptr when nothing was ever fetched
        }
    }
    try {
        return get();
    } catch (...) {
        return nullptr;
    }
}

} // namespace aimo::routing
