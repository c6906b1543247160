#pragma once

#include "config/config.hpp"
#include "core/context.hpp"
#include "openclaw/edit.hpp"
#include "upstream/catalogue.hpp"
#include "upstream/router_client.hpp"

#include <string>
#include <vector>

namespace aimo::openclaw {

/// Models to offer OpenClaw, and where they came from.
struct ModelList {
    std::vector<ProviderModel> models;
    std::string source; ///< e.g. "the running proxy at http://127.0.0.1:8080/v1"
};

/// A catalogue model in OpenClaw's terms: context length as contextWindow, the provider's
/// max completion tokens (else min(8192, context)) as maxTokens, display name as name.
ProviderModel to_provider_model(const upstream::ModelInfo& model);

/// The catalogue of the running proxy at `proxy_base_url` (…/v1), asked with `api_key` as
/// the bearer token (a proxy with agents lists what that agent may use); if no proxy answers
/// there, the router's (signed with the keypair). Throws core::Error when neither can be had.
ModelList fetch_models(const core::Context& ctx, const std::string& proxy_base_url,
                       const config::Config& config, const std::string& api_key);

} // namespace aimo::openclaw
