#pragma once

#include "upstream/aimo_router.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace aimo::upstream {

/// One model as aimo presents it.
struct ModelInfo {
    std::string id;
    std::string display_name;
    std::optional<int64_t> context_length;
    std::optional<double> prompt_usd_per_million;     ///< cheapest provider's input price
    std::optional<double> completion_usd_per_million; ///< that provider's output price
    nlohmann::json object; ///< the OpenAI-shaped model object served on /v1/models
};

/// How a catalogue quoted its prices (decided from their magnitude; see parse_catalogue).
enum class PriceUnit { none, per_token, per_million };

/// "USD per token", "USD per million tokens" or "no prices".
std::string_view to_string(PriceUnit unit);

/// A router's model list in the router's order.
struct Catalogue {
    std::vector<ModelInfo> models;
    PriceUnit price_unit = PriceUnit::none; ///< the unit its prices were read in
    std::vector<std::string> warnings;      ///< prices not believed
    /// The model with this id, or nullptr.
    const ModelInfo* find(std::string_view id) const;
};

/// Maps a router's /models answer to OpenAI-shaped models. Accepts `{"data":[…]}`,
/// `{"models":[…]}` or a bare array; a model is named by `id` or else `name`; keeps
/// display_name, context_length, providers (with pricing), pricing and description. Pricing
/// values (strings or numbers) are USD per token, as OpenRouter-style catalogues give them, or
/// per million tokens: the list's dearest price decides (below $0.001: per token). Prices past
/// $10,000 per million either way are dropped with a warning.
/// Throws core::Error(upstream_protocol) when the body is not such a list.
Catalogue parse_catalogue(std::string_view body, const std::string& source);

/// The OpenAI list object `{"object":"list","data":[…]}`.
nlohmann::json to_openai_list(const Catalogue& catalogue);

/// Fetches and parses `GET <router>/api/v1/models`. A non-2xx answer throws
/// core::Error(upstream_status) quoting the router's message.
Catalogue fetch_catalogue(const AimoRouter& router);

/// Throws core::Error(upstream_status) for a non-2xx `status`, with the router's error message
/// (OpenAI-shaped `error.message` when present) and a hint fitting the status.
void check_status(int status, const std::string& body, const std::string& url);

} // namespace aimo::upstream
