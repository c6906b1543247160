#pragma once

#include "openai/fields.hpp"

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace aimo::openai {

/// A piece of one tool call in a chat chunk.
struct ToolDelta {
    int64_t index = 0;
    std::string id;   ///< on the call's first piece
    std::string name; ///< on the call's first piece
    std::string arguments;
};

/// What one chat completion chunk says of its first choice: the data translators need to turn
/// a chat stream into another dialect's events.
struct Chunk {
    enum class Kind {
        chunk, ///< a chunk (possibly with nothing in it)
        done,  ///< `[DONE]`
        error, ///< an error event: `{"error":{…}}`
        other, ///< not JSON or not a chunk
    };
    Kind kind = Kind::other;
    std::string id;
    std::string model;
    int64_t created = 0;
    std::string content;
    std::vector<ToolDelta> tools;
    std::string finish_reason; ///< empty until the choice finishes
    std::string stop_sequence; ///< the stop string that ended it, when the upstream says
    std::string error_message; ///< Kind::error
    std::string error_type;    ///< Kind::error
    ChatUsage usage;
};

/// Reads one SSE event's data (openai::event_data) as a chunk. Never throws.
Chunk read_chunk(std::string_view data);

} // namespace aimo::openai
