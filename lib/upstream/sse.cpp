#include "upstream/sse.hpp"

namespace aimo::upstream {

void SseParser::feed(std::string_view bytes) {
    m_partial.append(bytes);
    size_t start = 0;
    for (size_t eol; (eol = m_partial.find('\n', start)) != std::string::npos; start = eol + 1) {
        std::string_view text(m_partial.data() + start, eol - start);
        if (!text.empty() && text.back() == '\r') {
            text.remove_suffix(1);
        }
        line(text);
    }
    m_partial.erase(0, start);
}

void SseParser::finish() {
    if (!m_partial.empty()) {
        std::string rest;
        rest.swap(m_partial);
        line(rest);
    }
    line("");
}

void SseParser::line(std::string_view text) {
    if (text.empty()) {
        if (m_has_data) {
            m_on_data(m_data);
        }
        m_data.clear();
        m_has_data = false;
        return;
    }
    if (text.rfind("data:", 0) != 0) {
        return; // comments (":"), event:, id:, retry:
    }
    text.remove_prefix(5);
    if (!text.empty() && text.front() == ' ') {
        text.remove_prefix(1);
    }
    if (m_has_data) {
        m_data += '\n';
    }
    m_data.append(text);
    m_has_data = true;
}

} // namespace aimo::upstream
