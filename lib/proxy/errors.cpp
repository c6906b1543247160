#include "proxy/errors.hpp"

#include <nlohmann/json.hpp>

namespace aimo::proxy {

std::string error_json(std::string_view message, std::string_view type, std::string_view code) {
    return nlohmann::json{{"error", {{"message", message}, {"type", type}, {"code", code}}}}.dump();
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
