#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace aimo::anthropic {

/// A chat completion request as the Anthropic Messages request that asks the same, for a
/// provider of kind anthropic.
struct MessagesRequest {
    std::string body;           ///< the Messages request, JSON
    std::string model;          ///< the model the client named
    bool stream = false;        ///< the client asked for an event stream …
    bool include_usage = false; ///< … with a usage chunk at its end
};

/// Translates a `POST /v1/chat/completions` body: system and developer messages become
/// `system`; user text and images (data: URLs as base64, others as url sources); assistant
/// text and tool_calls as tool_use blocks; tool messages as tool_result blocks; tools,
/// tool_choice, parallel_tool_calls, max_tokens (or max_completion_tokens; 4096 when neither:
/// Anthropic requires one), temperature, top_p, stop, user, stream. Throws
/// core::Error(invalid_input) for what Messages cannot ask (n > 1, response_format, logprobs,
/// a tool call whose arguments are not a JSON object).
MessagesRequest to_messages(std::string_view chat_body);

/// An Anthropic message as the chat completion that says the same: text as content, tool_use
/// blocks as tool_calls, the finish_reason, and usage (cached input counted in prompt_tokens).
/// Throws core::Error(upstream_protocol) when `message` is not an Anthropic message.
nlohmann::json completion_of(const nlohmann::json& message, std::string_view model,
                             int64_t created);

/// Turns an Anthropic Messages event stream into a chat completion stream, event by event:
/// a role chunk, content and tool call pieces (tool indexes counted from 0), the finish chunk,
/// the usage chunk when asked for, and `[DONE]`. Pings become SSE comments; an `error` event,
/// or an end before message_stop, becomes a chat error event.
class ChatStreamTranslator {
public:
    ChatStreamTranslator(std::string model, bool include_usage, int64_t created)
        : m_model(std::move(model)), m_include_usage(include_usage), m_created(created) {}

    /// One Anthropic SSE event (text up to its blank line) as chat SSE events.
    std::string translate(std::string_view event);
    /// What ends the stream when the upstream's has ended.
    std::string end();

private:
    std::string chunk(nlohmann::json delta, const nlohmann::json& finish = nullptr) const;
    std::string fail(std::string_view code, std::string_view message);

    std::string m_model;
    bool m_include_usage;
    int64_t m_created;
    std::string m_id = "chatcmpl-aimo";
    std::map<int64_t, int> m_tool_of_block; ///< Anthropic block index → chat tool index
    int m_tools = 0;
    int64_t m_prompt = 0;
    int64_t m_cached = 0;
    int64_t m_completion = 0;
    bool m_finished = false;
};

} // namespace aimo::anthropic
