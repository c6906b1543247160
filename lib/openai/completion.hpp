#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aimo::openai {

/// Builds one chat completion (`object: "chat.completion"`) from the chunks of a streamed one,
/// as they arrive: per choice its role, content, reasoning, refusal and tool calls (ids, names
/// and arguments joined in order), the finish reason, and the last usage reported.
class StreamAssembler {
public:
    /// Takes one SSE event's data (`[DONE]` included). Data that is not a chunk, or an error
    /// event, makes the stream unusable.
    void add(std::string_view data);
    /// True when the stream ended with `[DONE]`, every choice has a finish reason, and nothing
    /// unreadable or erroneous came before.
    bool complete() const;
    /// The completion the chunks add up to; only meaningful when complete().
    nlohmann::json completion() const;

private:
    struct ToolCall {
        std::string id;
        std::string type = "function";
        std::string name;
        std::string arguments;
    };
    struct Choice {
        std::string role = "assistant";
        std::optional<std::string> content;
        std::map<std::string, std::string> text_fields; ///< reasoning_content, refusal, …
        std::map<int64_t, ToolCall> tool_calls;
        std::optional<std::string> finish_reason;
    };
    nlohmann::json m_head; ///< id, created, model, system_fingerprint of the first chunk
    std::map<int64_t, Choice> m_choices;
    nlohmann::json m_usage;
    bool m_done = false;
    bool m_broken = false;
};

/// A chat completion replayed as the data of the SSE events a streamed answer has: a role
/// chunk, the reasoning, content and tool calls (name first, then the arguments), a finish
/// chunk per choice, the usage chunk when `include_usage` (and the completion has usage), and
/// `[DONE]`.
std::vector<std::string> completion_events(const nlohmann::json& completion, bool include_usage);

/// True when every choice of `completion` ended as it meant to: `stop`, `tool_calls` or
/// `function_call`; also `length` when `length_ok` (the limit it ran into is the request's own).
bool finished_naturally(const nlohmann::json& completion, bool length_ok);

} // namespace aimo::openai
