#include "anthropic/stream.hpp"

#include "anthropic/messages.hpp"
#include "core/json.hpp"
#include "openai/chunk.hpp"
#include "openai/sse.hpp"

#include <utility>

namespace aimo::anthropic {

using nlohmann::json;

namespace {
std::string named_event(std::string_view name, const json& data) {
    std::string out = "event: ";
    out += name;
    out += "\ndata: ";
    out += core::json_text(data);
    out += "\n\n";
    return out;
}

// The Messages error type for an OpenAI-shaped error's type.
std::string_view error_type_of(std::string_view openai_type) {
    for (std::string_view same : {"invalid_request_error", "authentication_error",
                                  "permission_error", "rate_limit_error", "not_found_error"}) {
        if (openai_type == same) {
            return same;
        }
    }
    return "api_error";
}
} // namespace

void StreamTranslator::start(const std::string& id) {
    m_started = true;
    m_out +=
        named_event("message_start", {{"type", "message_start"},
                                      {"message",
                                       {{"id", "msg_" + (id.empty() ? std::string("aimo") : id)},
                                        {"type", "message"},
                                        {"role", "assistant"},
                                        {"model", m_model},
                                        {"content", json::array()},
                                        {"stop_reason", nullptr},
                                        {"stop_sequence", nullptr},
                                        {"usage", {{"input_tokens", 0}, {"output_tokens", 0}}}}}});
}

void StreamTranslator::open_block(json block) {
    close_block();
    m_open = m_next_block++;
    m_open_text = block["type"] == "text";
    m_out += named_event(
        "content_block_start",
        {{"type", "content_block_start"}, {"index", m_open}, {"content_block", std::move(block)}});
}

void StreamTranslator::close_block() {
    if (m_open < 0) {
        return;
    }
    m_out += named_event("content_block_stop", {{"type", "content_block_stop"}, {"index", m_open}});
    m_open = -1;
    m_open_text = false;
}

void StreamTranslator::close_message() {
    if (!m_started) {
        start("");
    }
    close_block();
    auto usage = usage_json(m_usage);
    m_out += named_event(
        "message_delta",
        {{"type", "message_delta"},
         {"delta",
          {{"stop_reason", m_stop_reason.empty() ? "end_turn" : m_stop_reason},
           {"stop_sequence", m_stop_sequence.empty() ? json(nullptr) : json(m_stop_sequence)}}},
         {"usage", std::move(usage)}});
    m_out += named_event("message_stop", {{"type", "message_stop"}});
    m_finished = true;
}

std::string StreamTranslator::translate(std::string_view event) {
    if (m_finished) {
        return {};
    }
    auto data = openai::event_data(event);
    if (!data) {
        return named_event("ping", {{"type", "ping"}}); // a keep-alive or queued comment
    }
    auto chunk = openai::read_chunk(*data);
    switch (chunk.kind) {
    case openai::Chunk::Kind::done:
        close_message();
        break;
    case openai::Chunk::Kind::error:
        m_finished = true;
        m_out += named_event(
            "error", json::parse(error_json(error_type_of(chunk.error_type), chunk.error_message)));
        break;
    case openai::Chunk::Kind::other:
        break;
    case openai::Chunk::Kind::chunk:
        if (!m_started) {
            start(chunk.id);
        }
        if (!chunk.content.empty()) {
            if (!m_open_text) {
                open_block({{"type", "text"}, {"text", ""}});
            }
            m_out += named_event("content_block_delta",
                                 {{"type", "content_block_delta"},
                                  {"index", m_open},
                                  {"delta", {{"type", "text_delta"}, {"text", chunk.content}}}});
        }
        for (auto& tool : chunk.tools) {
            auto block = m_tool_blocks.find(tool.index);
            if (block == m_tool_blocks.end()) {
                open_block({{"type", "tool_use"},
                            {"id", tool.id},
                            {"name", tool.name},
                            {"input", json::object()}});
                block = m_tool_blocks.emplace(tool.index, m_open).first;
            }
            if (!tool.arguments.empty()) {
                m_out += named_event(
                    "content_block_delta",
                    {{"type", "content_block_delta"},
                     {"index", block->second},
                     {"delta", {{"type", "input_json_delta"}, {"partial_json", tool.arguments}}}});
            }
        }
        if (!chunk.finish_reason.empty()) {
            close_block();
            m_stop_reason = stop_reason(chunk.finish_reason, !chunk.stop_sequence.empty());
            m_stop_sequence = chunk.stop_sequence;
        }
        if (chunk.usage.found) {
            m_usage = chunk.usage;
        }
        break;
    }
    return std::exchange(m_out, {});
}

std::string StreamTranslator::end() {
    if (m_finished) {
        return {};
    }
    if (m_stop_reason.empty()) {
        m_finished = true;
        return std::exchange(m_out, {}) +
               named_event("error",
                           json::parse(error_json("api_error", "the provider's stream ended "
                                                               "before its answer was complete")));
    }
    close_message();
    return std::exchange(m_out, {});
}

} // namespace aimo::anthropic
