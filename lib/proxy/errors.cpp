#include "proxy/errors.hpp"

#include "openai/errors.hpp"

namespace aimo::proxy {

Response error_response(int status, std::string_view message, std::string_view type,
                        std::string_view code) {
    Response response;
    response.status = status;
    response.body = openai::error_json(message, type, code);
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

Response denial_response(const governance::Denial& denial) {
    Response response = error_response(denial.status, denial.message,
                                       openai::refusal_type(denial.status), denial.code);
    response.headers = denial.headers;
    return response;
}

} // namespace aimo::proxy
