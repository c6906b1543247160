#pragma once

#include "openai/fields.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace aimo::responses {

/// A Responses API request as the chat completion that asks the same.
struct ChatRequest {
    std::string body;    ///< the chat completion request, JSON
    std::string model;   ///< the model the client named
    bool stream = false; ///< the client asked for an event stream
    /// The request's settings a response object repeats: instructions, tools, tool_choice,
    /// temperature, top_p, max_output_tokens, parallel_tool_calls, text, metadata.
    nlohmann::json echo = nlohmann::json::object();
    /// Types of the tools left out because a chat upstream cannot run them (web_search, …).
    std::vector<std::string> dropped_tools;
};

/// Translates a `POST /v1/responses` body: `input` (a string, or items: messages with
/// input_text / output_text / input_image parts, `function_call`, `function_call_output`;
/// `reasoning` items are dropped), `instructions`, function `tools`, `tool_choice`,
/// `max_output_tokens`, `temperature`, `top_p`, `parallel_tool_calls`, `user`, `text.format`
/// and `stream` (usage always asked for). aimo keeps no responses: `previous_response_id` and
/// `item_reference` items are refused, `store` is ignored. Throws
/// core::Error(invalid_input) naming what cannot be translated.
ChatRequest to_chat(std::string_view body);

/// One output item as it builds up: a message's text, or a function call.
struct Item {
    bool call = false;
    std::string text; ///< a message's output_text
    std::string call_id;
    std::string name;
    std::string arguments;
};

/// A chat answer as Responses output.
struct Answer {
    std::string id; ///< the chat completion's id; the response's and its items' ids derive from it
    int64_t created = 0;
    std::vector<Item> items;
    std::string finish_reason;
    openai::ChatUsage usage;
};

/// A chat completion (its first choice) as an Answer: the message's text first, then its tool
/// calls. Throws core::Error(upstream_protocol) when `completion` is not a chat completion.
Answer answer_of(const nlohmann::json& completion);

/// The id of output item `index` of `answer`: "msg_…" for text, "fc_…" for a call.
std::string item_id(const Answer& answer, size_t index);

/// Output item `index` of `answer` as the Responses API shows it, `in_progress` or completed.
nlohmann::json item_json(const Answer& answer, size_t index, bool done);

/// The response object: `status` is "in_progress" (no output yet), or from the finish reason
/// "completed" / "incomplete" (max_output_tokens, content_filter) with output and usage.
nlohmann::json response_json(const Answer& answer, const nlohmann::json& echo,
                             std::string_view model, bool done);

} // namespace aimo::responses
