#pragma once

#include "upstream/aimo_router.hpp"

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace aimo::upstream {

/// Sends one streamed chat completion (`messages` is the OpenAI messages array) and calls
/// `on_delta` with each piece of assistant text as it arrives. Returns the whole answer.
/// Throws core::Error for an error status, an in-band error event, or a stream that ends
/// without `[DONE]`.
std::string stream_chat(const AimoRouter& router, const std::string& model,
                        const nlohmann::json& messages,
                        const std::function<void(std::string_view delta)>& on_delta);

/// Signed `GET /api/v1/session/balance`, parsed. Throws core::Error for an error status or a
/// body that is not JSON.
nlohmann::json fetch_balance(const AimoRouter& router);

/// The amount in a balance answer, e.g. "12.50 USD": the first of balance, balance_usd,
/// available or amount (at the top level or under `data`), with `currency` when given.
/// nullopt when the answer has none of them.
std::optional<std::string> balance_amount(const nlohmann::json& balance);

} // namespace aimo::upstream
