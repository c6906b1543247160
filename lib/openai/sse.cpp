#include "openai/sse.hpp"

namespace aimo::openai {

namespace {
// Looks at `text` from `at` line by line (lines end in LF, CR or CRLF; `lines` carries a CR
// that may be half a CRLF across calls) and returns the end of the first event that an empty
// line completes, or 0 when none does; `at` is left after the bytes looked at.
size_t first_event_end(std::string_view text, size_t& at, SseReader::Lines& lines) {
    while (at < text.size()) {
        char c = text[at++];
        if (c == '\n' && lines.after_cr) {
            lines.after_cr = false; // the LF of a CRLF: the line already ended at the CR
            if (lines.line_empty) {
                return at; // the empty line's LF belongs to its event
            }
            continue;
        }
        lines.after_cr = c == '\r';
        if (c != '\n' && c != '\r') {
            lines.line_empty = false;
            continue;
        }
        bool ends_event = lines.line_empty;
        lines.line_empty = true;
        if (ends_event && !(c == '\r' && at < text.size() && text[at] == '\n')) {
            return at;
        }
    }
    return 0;
}
} // namespace

void SseReader::feed(std::string_view bytes) {
    m_buffer.append(bytes);
}

std::string SseReader::take_complete() {
    while (size_t end = first_event_end(m_buffer, m_scanned, m_lines)) {
        m_complete = end;
    }
    std::string out;
    if (m_complete == 0) {
        return out;
    }
    if (m_complete == m_buffer.size()) {
        out.swap(m_buffer);
    } else {
        out.assign(m_buffer, 0, m_complete);
        m_buffer.erase(0, m_complete);
    }
    m_scanned -= m_complete;
    m_complete = 0;
    return out;
}

bool SseReader::next(std::string& event) {
    // Events already found are ahead of m_scanned; look from the start for the first one.
    size_t at = 0;
    Lines lines;
    size_t end = first_event_end(m_buffer, at, lines);
    if (end == 0) {
        return false;
    }
    event.assign(m_buffer, 0, end);
    m_buffer.erase(0, end);
    m_scanned = 0;
    m_complete = 0;
    m_lines = Lines{};
    return true;
}

std::string SseReader::take_rest() {
    std::string out;
    out.swap(m_buffer);
    m_scanned = 0;
    m_complete = 0;
    m_lines = Lines{};
    return out;
}

std::optional<std::string> event_data(std::string_view event) {
    std::optional<std::string> data;
    while (!event.empty()) {
        size_t end = event.find_first_of("\r\n");
        auto line = event.substr(0, end);
        if (end == std::string_view::npos) {
            event = {};
        } else {
            bool crlf = event[end] == '\r' && end + 1 < event.size() && event[end + 1] == '\n';
            event.remove_prefix(end + (crlf ? 2 : 1));
        }
        if (line.substr(0, 5) != "data:" && line != "data") {
            continue; // comments (":"), event:, id:, retry:
        }
        line.remove_prefix(line.size() >= 5 ? 5 : line.size());
        if (!line.empty() && line.front() == ' ') {
            line.remove_prefix(1);
        }
        if (data) {
            *data += '\n';
        } else {
            data.emplace();
        }
        data->append(line);
    }
    return data;
}

std::string data_event(std::string_view data) {
    std::string out;
    out.reserve(data.size() + 8);
    while (true) {
        size_t lf = data.find('\n');
        out.append("data: ").append(data.substr(0, lf)).append("\n");
        if (lf == std::string_view::npos) {
            break;
        }
        data.remove_prefix(lf + 1);
    }
    out.append("\n");
    return out;
}

} // namespace aimo::openai
