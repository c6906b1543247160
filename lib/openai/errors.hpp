#pragma once

#include <string>
#include <string_view>

namespace aimo::openai {

/// `{"error":{"message":…,"type":…,"code":…}}` as OpenAI clients expect it. A message quoting
/// bytes that are not UTF-8 shows them escaped.
std::string error_json(std::string_view message, std::string_view type, std::string_view code);

/// The error `type` OpenAI gives a refusal with this status: authentication_error (401),
/// insufficient_quota (402), permission_error (403), rate_limit_error (429), else
/// invalid_request_error.
std::string_view refusal_type(int status);

} // namespace aimo::openai
