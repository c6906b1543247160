#pragma once

#include "core/error.hpp"
#include "proxy/types.hpp"

#include <string>

namespace aimo::proxy {

/// `{"error":{"message":…,"type":…,"code":…}}` as OpenAI clients expect it.
std::string error_json(std::string_view message, std::string_view type, std::string_view code);

/// A JSON error response with that body.
Response error_response(int status, std::string_view message, std::string_view type,
                        std::string_view code);

/// Maps an upstream failure to 502 (unreachable, bad answer) or 504 (timeout); the message
/// names the upstream.
Response upstream_error_response(const core::Error& error);

} // namespace aimo::proxy
