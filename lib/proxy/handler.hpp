#pragma once

#include "proxy/catalogue_cache.hpp"
#include "proxy/types.hpp"
#include "upstream/aimo_router.hpp"

#include <chrono>

namespace aimo::proxy {

/// Answers every client request: health, the model catalogue, and the forwarded OpenAI
/// endpoints. Knows nothing about the HTTP library; thread-safe.
class Handler {
public:
    Handler(const upstream::AimoRouter& router, std::chrono::seconds models_cache_ttl)
        : m_router(router), m_catalogue(router, models_cache_ttl) {}

    /// Never throws: every failure becomes an OpenAI-shaped error response.
    Response handle(const Request& request);

private:
    Response list_models();
    Response get_model(std::string_view id);
    Response forward(const Request& request, std::string_view rest);

    const upstream::AimoRouter& m_router;
    CatalogueCache m_catalogue;
};

} // namespace aimo::proxy
