#include "openai/chunk.hpp"

#include "core/json.hpp"

namespace aimo::openai {

using nlohmann::json;

Chunk read_chunk(std::string_view data) {
    Chunk chunk;
    if (data == "[DONE]") {
        chunk.kind = Chunk::Kind::done;
        return chunk;
    }
    json parsed = core::parse_bounded(data);
    if (!parsed.is_object()) {
        return chunk;
    }
    if (const auto* error = field(parsed, "error"); error && !error->is_null()) {
        chunk.kind = Chunk::Kind::error;
        chunk.error_message = error->is_string() ? error->get<std::string>()
                                                 : string_or(*error, "message", "upstream error");
        chunk.error_type = string_or(*error, "type", "upstream_error");
        return chunk;
    }
    chunk.kind = Chunk::Kind::chunk;
    chunk.id = string_or(parsed, "id");
    chunk.model = string_or(parsed, "model");
    chunk.created = int_field(parsed, "created");
    chunk.usage = chat_usage(parsed);
    const json* choice = first_choice(parsed);
    if (choice == nullptr) {
        return chunk;
    }
    chunk.finish_reason = string_or(*choice, "finish_reason");
    // vLLM says which stop string ended it as `stop_reason`, SGLang as `matched_stop`.
    chunk.stop_sequence = string_or(*choice, "stop_reason", string_or(*choice, "matched_stop"));
    const json* delta = field(*choice, "delta");
    if (delta == nullptr) {
        return chunk;
    }
    chunk.content = string_or(*delta, "content");
    if (const auto* calls = field(*delta, "tool_calls"); calls && calls->is_array()) {
        for (const auto& call : *calls) {
            ToolDelta piece;
            piece.index = int_field(call, "index");
            piece.id = string_or(call, "id");
            if (const auto* function = field(call, "function")) {
                piece.name = string_or(*function, "name");
                piece.arguments = string_or(*function, "arguments");
            }
            chunk.tools.push_back(std::move(piece));
        }
    }
    return chunk;
}

} // namespace aimo::openai
