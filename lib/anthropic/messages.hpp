#pragma once

#include "openai/fields.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace aimo::anthropic {

/// An Anthropic Messages request as the chat completion that asks the same.
struct ChatRequest {
    std::string body;    ///< the chat completion request, JSON
    std::string model;   ///< the model the client named
    bool stream = false; ///< the client asked for an event stream
};

/// Translates a `POST /v1/messages` body: `system` (a string or text blocks), `messages` with
/// text, image, `tool_use` and `tool_result` blocks, `tools`, `tool_choice`, `max_tokens`,
/// `temperature`, `top_p`, `stop_sequences`, `stream` (usage always asked for), and
/// `metadata.user_id`. `thinking`, `top_k`, `cache_control` and `service_tier` have no chat
/// equivalent and are dropped. Throws core::Error(invalid_input) naming what cannot be
/// translated (a missing field, a server tool, a document block).
ChatRequest to_chat(std::string_view body);

/// A chat completion (its first choice) as the Anthropic message that says the same: text and
/// tool_use blocks, `stop_reason` (end_turn, tool_use, max_tokens, stop_sequence, refusal) and
/// usage. `model` is echoed as the client named it. Throws core::Error(upstream_protocol) when
/// `completion` is not a chat completion.
nlohmann::json from_chat(const nlohmann::json& completion, std::string_view model);

/// A tool_use content block; `arguments` is the chat call's JSON text (not an object: `{}`).
nlohmann::json tool_use_block(std::string id, std::string name, std::string_view arguments);

/// A chat usage as Anthropic's: input_tokens without the cached part, which is
/// cache_read_input_tokens.
nlohmann::json usage_json(const openai::ChatUsage& usage);

/// The Anthropic stop reason for a chat `finish_reason` (and the choice's matched stop string,
/// when the upstream says which it was).
std::string_view stop_reason(std::string_view finish_reason, bool matched_stop_sequence);

/// The stop string a chat choice says it stopped at (vLLM's `stop_reason`, SGLang's
/// `matched_stop`), or null.
nlohmann::json matched_stop(const nlohmann::json& choice);

/// `{"type":"error","error":{"type":…,"message":…}}`.
std::string error_json(std::string_view type, std::string_view message);

/// Anthropic's error type for an HTTP status: invalid_request_error (400 and other 4xx),
/// authentication_error (401), billing_error (402), permission_error (403), not_found_error (404),
/// request_too_large (413), rate_limit_error (429), overloaded_error (503, 529), api_error.
std::string_view error_type(int status);

/// `POST /v1/messages/count_tokens` answered locally: the characters of every text a model
/// would read (system, messages' text and tool input/results, tools' names, descriptions and
/// schemas) divided by 4, rounded up, plus 1,600 for each image. An estimate, not a tokenizer.
/// Throws core::Error(invalid_input) as to_chat does.
int64_t estimate_input_tokens(std::string_view body);

} // namespace aimo::anthropic
