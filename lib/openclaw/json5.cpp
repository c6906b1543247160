#include "openclaw/json5.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <cmath>
#include <fmt/format.h>
#include <limits>

namespace aimo::openclaw {

namespace {
class Parser {
public:
    Parser(std::string_view text, const std::string& source) : m_text(text), m_source(source) {
        if (m_text.substr(0, 3) == "\xEF\xBB\xBF") {
            m_pos = 3; // UTF-8 byte order mark
        }
    }

    Json parse_document() {
        Json value = parse_value(0);
        skip_space();
        if (m_pos < m_text.size()) {
            fail("unexpected text after the end of the document");
        }
        return value;
    }

private:
    [[noreturn]] void fail(const std::string& what) const {
        size_t line = 1;
        size_t column = 1;
        for (size_t i = 0; i < m_pos && i < m_text.size(); ++i) {
            if (m_text[i] == '\n') {
                ++line;
                column = 1;
            } else {
                ++column;
            }
        }
        throw core::Error(core::ErrorKind::invalid_input,
                          fmt::format("{}:{}:{}: {}", m_source, line, column, what),
                          "fix the file (OpenClaw reads it as JSON5), or restore its backup");
    }

    char peek() const { return m_pos < m_text.size() ? m_text[m_pos] : '\0'; }
    bool at_end() const { return m_pos >= m_text.size(); }

    void skip_space() {
        while (!at_end()) {
            char c = peek();
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
                ++m_pos;
            } else if (m_text.compare(m_pos, 2, "\xC2\xA0") == 0) {
                m_pos += 2; // no-break space
            } else if (m_text.compare(m_pos, 2, "//") == 0) {
                while (!at_end() && peek() != '\n') {
                    ++m_pos;
                }
            } else if (m_text.compare(m_pos, 2, "/*") == 0) {
                size_t end = m_text.find("*/", m_pos + 2);
                if (end == std::string_view::npos) {
                    fail("unterminated /* comment");
                }
                m_pos = end + 2;
            } else {
                return;
            }
        }
    }

    Json parse_value(int depth) {
        if (depth > 512) {
            fail("nesting is too deep");
        }
        skip_space();
        char c = peek();
        if (c == '{') {
            return parse_object(depth);
        }
        if (c == '[') {
            return parse_array(depth);
        }
        if (c == '"' || c == '\'') {
            return parse_string();
        }
        if (c == '-' || c == '+' || c == '.' || (c >= '0' && c <= '9') || c == 'I' || c == 'N') {
            return parse_number();
        }
        for (auto [word, value] : {std::pair<std::string_view, Json>{"true", true},
                                   {"false", false},
                                   {"null", nullptr}}) {
            if (m_text.compare(m_pos, word.size(), word) == 0) {
                m_pos += word.size();
                return value;
            }
        }
        fail(at_end() ? "unexpected end of file; expected a value" : "expected a value");
    }

    Json parse_object(int depth) {
        ++m_pos; // {
        Json object = Json::object();
        for (;;) {
            skip_space();
            if (peek() == '}') {
                ++m_pos;
                return object;
            }
            std::string key;
            if (peek() == '"' || peek() == '\'') {
                key = parse_string();
            } else {
                key = parse_identifier();
            }
            skip_space();
            if (peek() != ':') {
                fail("expected ':' after the key \"" + key + "\"");
            }
            ++m_pos;
            object[key] = parse_value(depth + 1);
            skip_space();
            if (peek() == ',') {
                ++m_pos;
            } else if (peek() != '}') {
                fail("expected ',' or '}' in an object");
            }
        }
    }

    Json parse_array(int depth) {
        ++m_pos; // [
        Json array = Json::array();
        for (;;) {
            skip_space();
            if (peek() == ']') {
                ++m_pos;
                return array;
            }
            array.push_back(parse_value(depth + 1));
            skip_space();
            if (peek() == ',') {
                ++m_pos;
            } else if (peek() != ']') {
                fail("expected ',' or ']' in an array");
            }
        }
    }

    static bool identifier_char(char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' ||
               static_cast<unsigned char>(c) >= 0x80 || (!first && c >= '0' && c <= '9');
    }

    std::string parse_identifier() {
        size_t start = m_pos;
        while (!at_end() && identifier_char(peek(), m_pos == start)) {
            ++m_pos;
        }
        if (m_pos == start) {
            fail("expected a key (a string or a name)");
        }
        auto name = m_text.substr(start, m_pos - start);
        if (!core::is_utf8(name)) {
            fail("a key that is not valid UTF-8 text");
        }
        return std::string(name);
    }

    unsigned hex_digits(size_t count) {
        unsigned value = 0;
        for (size_t i = 0; i < count; ++i) {
            char c = peek();
            int digit = (c >= '0' && c <= '9')   ? c - '0'
                        : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                        : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                 : -1;
            if (digit < 0) {
                fail("invalid hexadecimal escape");
            }
            value = value * 16 + static_cast<unsigned>(digit);
            ++m_pos;
        }
        return value;
    }

    // Length of the UTF-8 sequence `text` starts with, or 0 when it is not one.
    static size_t utf8_length(std::string_view text) {
        for (size_t length = 2; length <= 4 && length <= text.size(); ++length) {
            if (core::is_utf8(text.substr(0, length))) {
                return length;
            }
        }
        return 0;
    }

    static void append_utf8(std::string& out, unsigned cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    std::string parse_string() {
        char quote = peek();
        ++m_pos;
        std::string out;
        for (;;) {
            if (at_end()) {
                fail("unterminated string");
            }
            char c = m_text[m_pos++];
            if (c == quote) {
                return out;
            }
            if (c == '\n' || c == '\r') {
                --m_pos;
                fail("line break inside a string (end the line with \\ to continue it)");
            }
            if (c != '\\') {
                if (static_cast<unsigned char>(c) >= 0x80) {
                    // Bytes that are not UTF-8 (a file saved as Latin-1, a corrupted byte) cannot
                    // be written back as JSON: refuse them here, where the position is known.
                    size_t length = utf8_length(m_text.substr(m_pos - 1));
                    if (length == 0) {
                        --m_pos;
                        fail(fmt::format("byte 0x{:02x} is not valid UTF-8 (is the file saved in "
                                         "another encoding?)",
                                         static_cast<unsigned char>(c)));
                    }
                    out.append(m_text.substr(m_pos - 1, length));
                    m_pos += length - 1;
                    continue;
                }
                out += c;
                continue;
            }
            if (at_end()) {
                fail("unterminated string");
            }
            char e = m_text[m_pos++];
            switch (e) {
            case 'n':
                out += '\n';
                break;
            case 't':
                out += '\t';
                break;
            case 'r':
                out += '\r';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'v':
                out += '\v';
                break;
            case '0':
                out += '\0';
                break;
            case '\r':
                if (peek() == '\n') {
                    ++m_pos;
                }
                break; // line continuation
            case '\n':
                break;
            case 'x':
                append_utf8(out, hex_digits(2));
                break;
            case 'u': {
                unsigned cp = hex_digits(4);
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    fail("a \\u escape of a lone low surrogate");
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (m_text.compare(m_pos, 2, "\\u") != 0) {
                        fail("a \\u escape of a high surrogate without its low half");
                    }
                    m_pos += 2;
                    unsigned low = hex_digits(4);
                    if (low < 0xDC00 || low > 0xDFFF) {
                        fail("a \\u escape of a high surrogate without its low half");
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                append_utf8(out, cp);
                break;
            }
            default:
                out += e; // \" \' \\ \/ and any other character stand for themselves
            }
        }
    }

    Json parse_number() {
        size_t start = m_pos;
        bool negative = false;
        if (peek() == '+' || peek() == '-') {
            negative = peek() == '-';
            ++m_pos;
        }
        if (m_text.compare(m_pos, 8, "Infinity") == 0) {
            m_pos += 8;
            return negative ? -std::numeric_limits<double>::infinity()
                            : std::numeric_limits<double>::infinity();
        }
        if (m_text.compare(m_pos, 3, "NaN") == 0) {
            m_pos += 3;
            return std::numeric_limits<double>::quiet_NaN();
        }
        if (m_text.compare(m_pos, 2, "0x") == 0 || m_text.compare(m_pos, 2, "0X") == 0) {
            m_pos += 2;
            size_t digits_start = m_pos;
            while (std::isxdigit(static_cast<unsigned char>(peek()))) {
                ++m_pos;
            }
            if (m_pos == digits_start) {
                fail("expected hexadecimal digits");
            }
            std::string digits(m_text.substr(digits_start, m_pos - digits_start));
            try {
                long long value = std::stoll(digits, nullptr, 16);
                return negative ? -value : value;
            } catch (const std::out_of_range&) {
                // Past 64 bits: a double, as JavaScript reads it.
                double value = std::strtod(("0x" + digits).c_str(), nullptr);
                return negative ? -value : value;
            }
        }
        bool is_float = false;
        while (!at_end()) {
            char c = peek();
            if (c >= '0' && c <= '9') {
                ++m_pos;
            } else if (c == '.' || c == 'e' || c == 'E' ||
                       ((c == '+' || c == '-') &&
                        (m_text[m_pos - 1] == 'e' || m_text[m_pos - 1] == 'E'))) {
                is_float = true;
                ++m_pos;
            } else {
                break;
            }
        }
        std::string number(m_text.substr(start, m_pos - start));
        if (!number.empty() && number[0] == '+') {
            number.erase(0, 1);
        }
        if (number.empty() || number == "-" || number == ".") {
            fail("invalid number");
        }
        try {
            if (!is_float) {
                try {
                    return std::stoll(number);
                } catch (const std::out_of_range&) {
                    // Too big for an integer: a double, as JavaScript reads it (even inf).
                    return std::strtod(number.c_str(), nullptr);
                }
            }
            if (number.back() == '.') {
                number += '0';
            }
            size_t dot = number.find('.');
            if (dot == 0 || (dot == 1 && number[0] == '-')) {
                number = number.substr(0, dot) + "0" + number.substr(dot);
            }
            return std::stod(number);
        } catch (const std::exception&) {
            m_pos = start;
            fail("invalid number");
        }
    }

    std::string_view m_text;
    const std::string& m_source;
    size_t m_pos = 0;
};
} // namespace

Json parse_json5(std::string_view text, const std::string& source) {
    return Parser(text, source).parse_document();
}

Json parse_json5_object(std::string_view text, const std::string& source) {
    Json value = parse_json5(text, source);
    if (!value.is_object()) {
        throw core::Error(core::ErrorKind::invalid_input,
                          fmt::format("{}: not a JSON object (its top level is {} {})", source,
                                      value.is_array() ? "an" : "a", value.type_name()),
                          "an OpenClaw config is one { … } object; restore it from its backup");
    }
    return value;
}

} // namespace aimo::openclaw
