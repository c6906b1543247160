#pragma once

#include "upstream/catalogue.hpp"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace aimo::proxy {

/// The router's catalogue with its serialised OpenAI list, shared read-only between threads.
struct CachedCatalogue {
    upstream::Catalogue catalogue;
    std::string list_json;
    std::chrono::steady_clock::time_point fetched_at;
};

/// Caches the router's model list for `ttl` so polling clients do not hammer the router. One
/// fetch at a time; when a refresh fails, the previous list keeps being served.
class CatalogueCache {
public:
    CatalogueCache(const upstream::AimoRouter& router, std::chrono::seconds ttl)
        : m_router(router), m_ttl(ttl) {}

    /// A fresh-enough catalogue; throws core::Error when none could ever be fetched.
    std::shared_ptr<const CachedCatalogue> get();

private:
    const upstream::AimoRouter& m_router;
    std::chrono::seconds m_ttl;
    std::mutex m_fetch_mutex; // one refresh at a time
    std::mutex m_mutex;       // guards m_current
    std::shared_ptr<const CachedCatalogue> m_current;
};

} // namespace aimo::proxy
