#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aimo::openai {

/// Tokens an answer reports.
struct TokenUsage {
    int64_t prompt = 0;
    int64_t completion = 0;
    bool found = false;
    bool has_prompt = false; ///< false: only the completion was reported (an Anthropic delta)
    int64_t total() const { return prompt + completion; }
};

/// The `usage` of a JSON answer: prompt_tokens/completion_tokens (chat, completions,
/// embeddings) or input_tokens/output_tokens (responses, Anthropic, whose cache_read_ and
/// cache_creation_input_tokens count as prompt too), also under `response` or `message`.
TokenUsage usage_from_json(std::string_view body);

/// One SSE event (its text up to the blank line): the usage it carries, and whether it carries
/// nothing else (a chat chunk with empty `choices`, as `include_usage` adds at the end).
struct EventUsage {
    TokenUsage usage;
    bool usage_only = false;
};
EventUsage usage_from_event(std::string_view event);

} // namespace aimo::openai
