#pragma once

#include "core/error.hpp"
#include "upstream/catalogue.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace aimo::routing {

/// A model catalogue with its serialised OpenAI list and, for bare model ids, the providers
/// offering each one; shared read-only between threads.
struct CachedCatalogue {
    upstream::Catalogue catalogue;
    std::string list_json;
    std::map<std::string, std::vector<std::string>, std::less<>> providers_by_model;
    std::vector<std::string> problems; ///< providers whose list could not be fetched, and why
    std::vector<std::string> warnings; ///< prices not believed (upstream::Catalogue::warnings)
    std::chrono::steady_clock::time_point fetched_at;
};

/// Caches a catalogue for `ttl` so polling clients do not hammer upstreams. One fetch at a
/// time; when a refresh fails, the previous list keeps being served, and with no list at all
/// the failure itself is remembered for a few seconds (a request path that needs prices must
/// not wait on a dead catalogue every time).
class CatalogueCache {
public:
    using Fetch = std::function<CachedCatalogue()>;
    CatalogueCache(Fetch fetch, std::chrono::seconds ttl) : m_fetch(std::move(fetch)), m_ttl(ttl) {}

    /// A fresh-enough catalogue; throws core::Error when none could ever be fetched.
    std::shared_ptr<const CachedCatalogue> get();
    /// Same, but nullptr instead of an error (for per-request look-ups, where a throw per
    /// request would cost more than the look-up).
    std::shared_ptr<const CachedCatalogue> get_if_available() noexcept;

private:
    /// Under m_mutex: the cached list when fresh or while a failure is being backed off;
    /// `failing` says a recent fetch failed and nothing is cached.
    std::shared_ptr<const CachedCatalogue> usable(bool& failing) const;

    Fetch m_fetch;
    std::chrono::seconds m_ttl;
    std::mutex m_fetch_mutex; // one refresh at a time
    std::mutex m_mutex;       // guards m_current
    std::shared_ptr<const CachedCatalogue> m_current;
    std::optional<core::Error> m_failure; ///< the last failed fetch, while nothing is cached
    std::chrono::steady_clock::time_point m_failed_at;
};

} // namespace aimo::routing
