#pragma once

#include "responses/translate.hpp"

#include <map>
#include <string>
#include <string_view>

namespace aimo::responses {

/// Turns a chat completion's event stream into the Responses API's, event by event:
/// `response.created`, `response.in_progress`; per text run or tool call an output item
/// (`response.output_item.added`, for text `response.content_part.added` and
/// `response.output_text.delta`, for calls `response.function_call_arguments.delta`, then the
/// matching `.done` events); at the end `response.completed` (or `response.incomplete`) with
/// the whole response and its usage. Every event carries its `sequence_number`. SSE comments
/// pass through; an error event becomes an `error` event. Not thread-safe.
class StreamTranslator {
public:
    /// `model` as the client named it; `echo` as ChatRequest::echo.
    StreamTranslator(std::string model, nlohmann::json echo)
        : m_model(std::move(model)), m_echo(std::move(echo)) {}

    /// The Responses events for one chat SSE event (its raw text); may be empty.
    std::string translate(std::string_view event);
    /// What ends the response when the chat stream has ended: the closing events, or an error
    /// event when it stopped before its answer finished. Empty once already ended.
    std::string end();

private:
    void emit(const char* type, nlohmann::json data);
    void start();
    void open_item(Item item);
    void close_item();
    void complete();
    void fail(std::string_view code, std::string_view message);

    std::string m_model;
    nlohmann::json m_echo;
    std::string m_out;
    Answer m_answer;
    bool m_started = false;
    bool m_finished = false;
    int64_t m_sequence = 0;
    int m_open = -1; ///< the open item's index in m_answer.items, -1 when none is open
    std::map<int64_t, size_t> m_calls; ///< chat tool call index -> item index
};

} // namespace aimo::responses
