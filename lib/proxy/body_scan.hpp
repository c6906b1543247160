#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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
    int64_t max_tokens = -1;         ///< max_tokens / max_completion_tokens / max_output_tokens
};

/// Validates `body` as JSON and extracts the fields above.
BodySummary scan_body(std::string_view body);

} // namespace aimo::proxy
