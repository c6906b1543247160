#pragma once

#include "crypto/siwx.hpp"
#include "routing/config.hpp"
#include "routing/resilience.hpp"
#include "upstream/aimo_router.hpp"
#include "upstream/catalogue.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>

namespace aimo::routing {

/// One configured upstream at run time: builds its requests (SIWx signature or bearer key,
/// extra headers), knows its timeouts, lists its models, and carries its circuit breakers: one
/// for the provider (connections and TLS fail for every model alike) and one per model (a
/// model's 5xx answers and timeouts must not take the provider's other models down).
class Provider {
public:
    /// `signer` is required for kind "aimo" and ignored otherwise.
    Provider(ProviderConfig config, std::shared_ptr<const crypto::SiwxSigner> signer,
             upstream::ClientPool& pool, BreakerPolicy breaker);

    const ProviderConfig& config() const { return m_config; }
    const std::string& name() const { return m_config.name; }
    /// The origin requests go to.
    const upstream::Url& url() const { return m_config.base_url; }

    /// The request for an OpenAI path such as "/chat/completions": the client's `headers`
    /// plus this provider's credentials and configured headers (which replace same-named
    /// client headers).
    upstream::HttpRequest request(std::string_view method, std::string_view rest,
                                  std::string_view query, upstream::Headers headers,
                                  std::string_view body) const;
    /// Does ahead what request() for `rest` and `query` will do whatever the request holds:
    /// signs its SIWx header (kind "aimo"; nothing for the others).
    void warm(std::string_view rest, std::string_view query) const {
        if (m_router) {
            m_router->presign(rest, query);
        }
    }
    /// Sends request(…) without waiting for the answer. Throws core::Error when unreachable.
    upstream::PendingResponse start(std::string_view method, std::string_view rest,
                                    std::string_view query, upstream::Headers headers,
                                    std::string_view body) const {
        return m_pool.start(url(), request(method, rest, query, std::move(headers), body),
                            timeouts());
    }
    /// Connect, first-byte and idle timeouts for ClientPool.
    upstream::Timeouts timeouts() const;
    /// The configured model list, or the provider's GET /models. Throws core::Error.
    upstream::Catalogue fetch_models() const;

    /// The breaker for reaching this provider at all.
    CircuitBreaker& breaker() const { return m_breaker; }
    /// The breaker for `model` (the id sent upstream) at this provider. Model ids come from
    /// clients: a bounded number is kept, and past it models that have not failed share none.
    std::shared_ptr<CircuitBreaker> model_breaker(std::string_view model) const;

private:
    ProviderConfig m_config;
    upstream::ClientPool& m_pool;
    std::optional<upstream::AimoRouter> m_router; ///< kind "aimo"
    mutable CircuitBreaker m_breaker;
    BreakerPolicy m_policy;
    mutable std::mutex m_models_mutex;
    mutable std::map<std::string, std::shared_ptr<CircuitBreaker>, std::less<>> m_models;
};

} // namespace aimo::routing
