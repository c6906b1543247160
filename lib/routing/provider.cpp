#include "routing/provider.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <algorithm>

namespace aimo::routing {

Provider::Provider(ProviderConfig config, std::shared_ptr<const crypto::SiwxSigner> signer,
                   upstream::ClientPool& pool, BreakerPolicy breaker)
    : m_config(std::move(config)), m_pool(pool), m_breaker(breaker), m_policy(breaker) {
    if (m_config.kind == ProviderKind::aimo) {
        m_router.emplace(m_config.base_url, std::move(signer), pool);
    }
}

std::shared_ptr<CircuitBreaker> Provider::model_breaker(std::string_view model) const {
    constexpr size_t max_models = 1024;
    std::lock_guard lock(m_models_mutex);
    auto found = m_models.find(model);
    if (found != m_models.end()) {
        return found->second;
    }
    if (m_models.size() >= max_models) {
        // Forget breakers with nothing to remember (requests in flight keep theirs alive).
        for (auto it = m_models.begin(); it != m_models.end();) {
            it = it->second->idle() ? m_models.erase(it) : std::next(it);
        }
        if (m_models.size() >= max_models) {
            return std::make_shared<CircuitBreaker>(BreakerPolicy{0, m_policy.cooldown});
        }
    }
    return m_models.emplace(std::string(model), std::make_shared<CircuitBreaker>(m_policy))
        .first->second;
}

upstream::HttpRequest Provider::request(std::string_view method, std::string_view rest,
                                        std::string_view query, upstream::Headers headers,
                                        std::string_view body) const {
    for (const auto& [name, value] : m_config.headers) {
        headers.set(name, value);
    }
    if (m_router) {
        return m_router->request(method, rest, query, std::move(headers), body);
    }
    if (m_config.kind == ProviderKind::anthropic) {
        if (!m_config.api_key.empty()) {
            headers.set("x-api-key", m_config.api_key);
        }
        if (!headers.has("anthropic-version")) { // the client's, when it said which
            headers.add("anthropic-version", m_config.anthropic_version);
        }
    } else if (!m_config.api_key.empty()) {
        headers.add("Authorization", "Bearer " + m_config.api_key);
    }
    upstream::HttpRequest request;
    request.method = std::string(method);
    request.target = m_config.base_url.path;
    if (!request.target.empty() && request.target.back() == '/') {
        request.target.pop_back();
    }
    request.target += rest;
    if (!query.empty()) {
        request.target.append("?").append(query);
    }
    request.headers = std::move(headers);
    request.body = body;
    return request;
}

upstream::Timeouts Provider::timeouts() const {
    return {m_config.timeouts.connect, m_config.timeouts.idle, m_config.timeouts.first_byte};
}

upstream::Catalogue Provider::fetch_models() const {
    if (!m_config.models.empty()) {
        upstream::Catalogue catalogue;
        for (const auto& id : m_config.models) {
            upstream::ModelInfo model;
            model.id = id;
            model.object = {{"id", id}, {"object", "model"}, {"created", 0}, {"owned_by", name()}};
            catalogue.models.push_back(std::move(model));
        }
        return catalogue;
    }
    if (m_router) {
        return upstream::fetch_catalogue(*m_router);
    }
    auto response = m_pool.send(m_config.base_url,
                                request("GET", "/models", "", {{"Accept", "application/json"}}, ""),
                                timeouts());
    std::string body = response.read_all(64 * 1024 * 1024);
    std::string url = m_config.base_url.join("/models");
    upstream::check_status(response.status, body, url);
    return upstream::parse_catalogue(body, url);
}

} // namespace aimo::routing
