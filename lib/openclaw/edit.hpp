#pragma once

#include "openclaw/json5.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aimo::openclaw {

/// One model as OpenClaw's provider schema wants it.
struct ProviderModel {
    std::string id;
    std::string name;
    int64_t context_window = 128000;
    int64_t max_tokens = 8192;
    bool reasoning = false;
};

/// What `aimo connect openclaw` writes.
struct ConnectRequest {
    std::string provider_id = "aimo";
    std::string base_url; ///< ends in /v1, or the proxy's root for anthropic-messages
    /// OpenClaw's `api` for the provider: openai-completions, openai-responses or
    /// anthropic-messages.
    std::string api = "openai-completions";
    std::string api_key = "aimo-local";
    std::vector<ProviderModel> models;
    std::optional<std::string> primary; ///< model id (without provider prefix) to make default
    bool set_default = true;
};

/// The edited config and what changed, in words.
struct EditResult {
    Json config;
    std::vector<std::string> changes;
    std::optional<std::string> previous_primary; ///< the default model we replaced, if not ours
    std::string primary;                         ///< provider/model now default (may be empty)
};

/// Refuses (core::Error) a config whose `models`, `models.providers` or `agents` is a
/// `$include`: those parts live in another file aimo will not inline.
void refuse_includes(const Json& config, const std::string& source);

/// Adds or replaces the provider and points the default model (and the main agent's override)
/// at it, keeping fallbacks, adding to allowlists only where they already exist. Pure.
EditResult connect_config(Json config, const ConnectRequest& request);

/// Removes the provider and every `<provider>/…` reference (primaries, fallbacks, allowlists,
/// agent overrides), restoring `previous_primary` where a primary was ours. Pure.
EditResult disconnect_config(Json config, const std::string& provider_id,
                             const std::optional<std::string>& previous_primary);

/// The primary model of the default agent (string or {primary}), or empty.
std::string default_primary(const Json& config);

} // namespace aimo::openclaw
