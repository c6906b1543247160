#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aimo::proxy {

/// What the proxy needs to know about a request body, read in one pass without building a DOM.
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
};

/// Validates `body` as JSON and extracts the fields above.
BodySummary scan_body(std::string_view body);

/// `body` with its completion limit set to at most `limit`: every max_tokens /
/// max_completion_tokens / max_output_tokens value above it (or not a number) replaced, or,
/// when it has none, `field` added as its first member.
std::string with_max_tokens(std::string_view body, const BodySummary& summary, int64_t limit,
                            std::string_view field);

} // namespace aimo::proxy
