#pragma once

#include "openai/fields.hpp"

#include <map>
#include <string>
#include <string_view>

namespace aimo::anthropic {

/// Turns a chat completion's event stream into the Messages API's, event by event:
/// `message_start`, then per text run or tool call a `content_block_start`, its deltas
/// (`text_delta`, `input_json_delta`) and `content_block_stop`, indexes counting up in order;
/// at the end `message_delta` (stop_reason, usage) and `message_stop`. SSE comments (aimo's
/// keep-alives) become `ping` events; an error event becomes an `error` event. Tool calls are
/// expected one after another, as chat upstreams send them. Not thread-safe.
class StreamTranslator {
public:
    /// `model` is echoed in message_start as the client named it.
    explicit StreamTranslator(std::string model) : m_model(std::move(model)) {}

    /// The Messages events for one chat SSE event (its raw text); may be empty.
    std::string translate(std::string_view event);
    /// What ends the message when the chat stream has ended: the closing events, or an error
    /// event when the stream stopped before its answer finished. Empty once already ended.
    std::string end();
    /// True once message_stop or an error event is out.
    bool finished() const { return m_finished; }

private:
    void start(const std::string& id);
    void open_block(nlohmann::json block);
    void close_block();
    void close_message();

    std::string m_model;
    std::string m_out;
    bool m_started = false;
    bool m_finished = false;
    int m_next_block = 0;
    int m_open = -1;                      ///< the open block's index, -1 when none is open
    bool m_open_text = false;             ///< the open block is text
    std::map<int64_t, int> m_tool_blocks; ///< chat tool call index -> block index
    std::string m_stop_reason;
    std::string m_stop_sequence;
    openai::ChatUsage m_usage;
};

} // namespace aimo::anthropic
