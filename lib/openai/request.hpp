#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aimo::openai {

/// What aimo needs to know about an OpenAI request body (chat, completions, embeddings,
/// responses), read in one pass without building a document.
struct BodySummary {
    bool valid_json = false;
    bool is_object = false;
    std::string error;      ///< parser message when not valid JSON
    std::string model;      ///< top-level "model" string, if any
    bool has_model = false; ///< a top-level "model" string was found
    size_t model_begin = 0; ///< byte range of that string's JSON token, quotes included
    size_t model_end = 0;
    bool stream = false;             ///< top-level "stream": true
    bool include_usage = false;      ///< "stream_options": {"include_usage": true}
    bool has_stream_options = false; ///< a top-level "stream_options" key exists
    /// The largest of max_tokens / max_completion_tokens / max_output_tokens (a client cannot
    /// understate its worst case by naming a small one last); -1 when none is a number.
    int64_t max_tokens = -1;
    /// Byte ranges of those fields' values (numbers, strings or literals), for rewriting them.
    std::vector<std::pair<size_t, size_t>> max_tokens_at;
    size_t object_begin = 0; ///< where the top-level '{' is
    /// The top-level "temperature" when it is a number; -1 otherwise (absent: the API's 1).
    double temperature = -1;
};

/// Validates `body` as JSON and extracts the fields above.
BodySummary scan_body(std::string_view body);

/// `body` with its completion limit set to at most `limit`: every max_tokens /
/// max_completion_tokens / max_output_tokens value above it (or not a number) replaced, or,
/// when it has none, `field` added as its first member.
std::string with_max_tokens(std::string_view body, const BodySummary& summary, int64_t limit,
                            std::string_view field);

/// `body` (a JSON object without "stream_options") with "stream_options":{"include_usage":true}
/// added as its first member, so a stream reports its usage at the end; `shift` receives how
/// many bytes were inserted before the rest.
std::string with_include_usage(std::string_view body, size_t& shift);

/// `body` with the JSON string token at [begin, end) (BodySummary's model_begin, model_end)
/// replaced by `model`: the provider's own id for it.
std::string with_model(std::string_view body, size_t begin, size_t end, std::string_view model);

/// Whether an SSE event is the usage-only chunk `include_usage` makes (a chat chunk with empty
/// `choices` and a `usage`): the one a client that did not ask for it must not see.
bool is_usage_only_event(std::string_view event);

} // namespace aimo::openai
