#include "openai/errors.hpp"

#include "core/json.hpp"
#include "core/text.hpp"

namespace aimo::openai {

std::string error_json(std::string_view message, std::string_view type, std::string_view code) {
    // Messages quote what the client sent (paths, model names); bytes that are not UTF-8 are
    // shown escaped rather than lost.
    std::string text = core::is_utf8(message) ? std::string(message) : core::printable(message);
    return core::json_text(
        nlohmann::json{{"error", {{"message", std::move(text)}, {"type", type}, {"code", code}}}});
}

std::string_view refusal_type(int status) {
    switch (status) {
    case 401:
        return "authentication_error";
    case 402:
        return "insufficient_quota";
    case 403:
        return "permission_error";
    case 429:
        return "rate_limit_error";
    default:
        return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

} // namespace aimo::openai
