#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aimo::openai {

/// Splits a server-sent-event stream into events as its bytes arrive, however they are split:
/// the one SSE reader, used by the proxy's relay, its usage tap and the chat command. An event
/// ends at an empty line; lines end in LF, CRLF or CR (the SSE rules).
class SseReader {
public:
    /// Adds bytes as they arrive.
    void feed(std::string_view bytes);
    /// Every complete event so far, as their raw bytes end to end (their empty lines included),
    /// taken out of the buffer. Empty when no event is complete.
    std::string take_complete();
    /// The next complete event's raw bytes (its empty line included) into `event`; false when
    /// no event is complete.
    bool next(std::string& event);
    /// What is left at the end of the stream: a last event without its empty line.
    std::string take_rest();

    /// Where lines stand after the bytes looked at so far.
    struct Lines {
        bool after_cr = false;  ///< the last byte was a CR (a CRLF may be split)
        bool line_empty = true; ///< the current line has no characters yet
    };

private:
    std::string m_buffer;
    size_t m_scanned = 0;  // bytes of m_buffer already looked at for event ends
    size_t m_complete = 0; // end of the last complete event found in them
    Lines m_lines;
};

/// The data of one event's raw text: its `data:` lines joined with LF (one optional space after
/// the colon dropped); nullopt when it has no data line (a comment, a keep-alive).
std::optional<std::string> event_data(std::string_view event);

/// One event carrying `data`, each of its lines a `data:` line: "data: …\n\n".
std::string data_event(std::string_view data);

} // namespace aimo::openai
