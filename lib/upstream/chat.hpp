#pragma once

#include "upstream/aimo_router.hpp"

#include <functional>
#include <nlohmann/json.hpp>
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

} // namespace aimo::upstream
