#include "proxy/errors.hpp"

#include "core/json.hpp"
#include "core/text.hpp"

namespace aimo::proxy {

std::string error_json(std::string_view message, std::string_view type, std::string_view code) {
    // Messages quote what the client sent (paths, model names); bytes that are not UTF-8 are
    // shown escaped rather than lost.
    std::string text = core::is_utf8(message) ? std::string(message) : core::printable(message);
    return core::json_text(
        nlohmann::json{{"error", {{"message", std::move(text)}, {"type", type}, {"code", code}}}});
}

Response error_response(int status, std::string_view message, std::string_view type,
                        std::string_view code) {
    Response response;
    response.status = status;
    response.body = error_json(message, type, code);
    return response;
}

Response upstream_error_response(const core::Error& error) {
    switch (error.kind()) {
    case core::ErrorKind::upstream_timeout:
        return error_response(504, error.what(), "upstream_error", "upstream_timeout");
    case core::ErrorKind::upstream_protocol:
        return error_response(502, error.what(), "upstream_error", "upstream_bad_response");
    default:
        return error_response(502, error.what(), "upstream_error", "upstream_unreachable");
    }
}

} // namespace aimo::proxy
