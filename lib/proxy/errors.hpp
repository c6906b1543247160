#pragma once

#include "core/error.hpp"
#include "governance/governor.hpp"
#include "proxy/types.hpp"

#include <string>

namespace aimo::proxy {

/// A JSON error response in OpenAI's shape (openai::error_json).
Response error_response(int status, std::string_view message, std::string_view type,
                        std::string_view code);

/// Maps an upstream failure to 502 (unreachable, bad answer) or 504 (timeout); the message
/// names the upstream.
Response upstream_error_response(const core::Error& error);

/// A governance refusal as the client sees it: OpenAI's error type for its status, with its
/// Retry-After and x-ratelimit-* headers.
Response denial_response(const governance::Denial& denial);

} // namespace aimo::proxy
