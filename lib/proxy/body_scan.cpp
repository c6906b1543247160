#include "proxy/body_scan.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace aimo::proxy {

namespace {
// A strict RFC 8259 validator (UTF-8 checked, depth-limited) that also picks out the few
// top-level fields the proxy needs. Hand-written because the request body is on the hot path:
// it runs several times faster than a general parser and allocates nothing for the rest.
class Scanner {
public:
    Scanner(std::string_view text, BodySummary& out)
        : m_p(text.data()), m_begin(text.data()), m_end(text.data() + text.size()), m_out(out) {}

    bool run() {
        skip_space();
        if (!value(0, Slot::none)) {
            return false;
        }
        skip_space();
        return m_p == m_end || fail("unexpected text after the JSON value");
    }

private:
    // Which extracted field, if any, the value being parsed is.
    enum class Slot { none, model, stream, stream_options, include_usage, max_tokens };

    bool fail(const char* what) {
        if (m_out.error.empty()) {
            m_out.error = fmt::format("at byte {}: {}", m_p - m_begin, what);
        }
        return false;
    }

    void skip_space() {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t')) {
            ++m_p;
        }
    }

    bool literal(const char* word, size_t size) {
        if (static_cast<size_t>(m_end - m_p) < size || std::memcmp(m_p, word, size) != 0) {
            return fail("invalid literal");
        }
        m_p += size;
        return true;
    }

    bool value(int depth, Slot slot) {
        if (m_p >= m_end) {
            return fail("unexpected end of input");
        }
        switch (*m_p) {
        case '{':
            return object(depth + 1, slot);
        case '[':
            return array(depth + 1);
        case '"': {
            const char* start = m_p;
            if (!string()) {
                return false;
            }
            if (slot == Slot::model) {
                std::string_view token(start, static_cast<size_t>(m_p - start));
                m_out.model = token.find('\\') == std::string_view::npos
                                  ? std::string(token.substr(1, token.size() - 2))
                                  : nlohmann::json::parse(token).get<std::string>();
                m_out.model_begin = static_cast<size_t>(start - m_begin);
                m_out.model_end = static_cast<size_t>(m_p - m_begin);
                m_out.has_model = true;
            }
            return true;
        }
        case 't':
            if (slot == Slot::stream) {
                m_out.stream = true;
            } else if (slot == Slot::include_usage) {
                m_out.include_usage = true;
            }
            return literal("true", 4);
        case 'f':
            return literal("false", 5);
        case 'n':
            return literal("null", 4);
        default: {
            const char* start = m_p;
            if (!number()) {
                return false;
            }
            if (slot == Slot::max_tokens) {
                double value = std::strtod(std::string(start, m_p).c_str(), nullptr);
                if (value >= 0 && value < 1e12) {
                    m_out.max_tokens = static_cast<int64_t>(value);
                }
            }
            return true;
        }
        }
    }

    enum class Next { more, done, bad };

    // After an element of an object or array: a ',' (more follows), `close` (done) or neither.
    Next after_element(char close) {
        skip_space();
        if (m_p < m_end && *m_p == ',') {
            ++m_p;
            skip_space();
            return Next::more;
        }
        if (m_p < m_end && *m_p == close) {
            ++m_p;
            return Next::done;
        }
        return Next::bad;
    }

    bool object(int depth, Slot parent) {
        if (depth > 512) {
            return fail("nesting is too deep");
        }
        if (depth == 1) {
            m_out.is_object = true;
        }
        ++m_p; // {
        skip_space();
        if (m_p < m_end && *m_p == '}') {
            ++m_p;
            return true;
        }
        for (;;) {
            if (m_p >= m_end || *m_p != '"') {
                return fail("expected a string key");
            }
            const char* key_start = m_p + 1;
            if (!string()) {
                return false;
            }
            std::string_view key(key_start, static_cast<size_t>(m_p - 1 - key_start));
            Slot slot = Slot::none;
            if (depth == 1) {
                slot = key == "model"            ? Slot::model
                       : key == "stream"         ? Slot::stream
                       : key == "stream_options" ? Slot::stream_options
                       : key == "max_tokens" || key == "max_completion_tokens" ||
                               key == "max_output_tokens"
                           ? Slot::max_tokens
                           : Slot::none;
                m_out.has_stream_options = m_out.has_stream_options || key == "stream_options";
            } else if (depth == 2 && parent == Slot::stream_options && key == "include_usage") {
                slot = Slot::include_usage;
            }
            skip_space();
            if (m_p >= m_end || *m_p != ':') {
                return fail("expected ':' after a key");
            }
            ++m_p;
            skip_space();
            if (!value(depth, slot)) {
                return false;
            }
            if (Next next = after_element('}'); next != Next::more) {
                return next == Next::done || fail("expected ',' or '}' in an object");
            }
        }
    }

    bool array(int depth) {
        if (depth > 512) {
            return fail("nesting is too deep");
        }
        ++m_p; // [
        skip_space();
        if (m_p < m_end && *m_p == ']') {
            ++m_p;
            return true;
        }
        for (;;) {
            if (!value(depth, Slot::none)) {
                return false;
            }
            if (Next next = after_element(']'); next != Next::more) {
                return next == Next::done || fail("expected ',' or ']' in an array");
            }
        }
    }

    // The code unit of a \uXXXX escape at `at`, or -1 when there is none.
    int code_unit(const char* at) const {
        if (m_end - at < 6 || at[0] != '\\' || at[1] != 'u') {
            return -1;
        }
        int value = 0;
        for (int i = 2; i < 6; ++i) {
            char c = at[i];
            int digit = (c >= '0' && c <= '9')   ? c - '0'
                        : (c >= 'a' && c <= 'f') ? c - 'a' + 10
                        : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                 : -1;
            if (digit < 0) {
                return -1;
            }
            value = value * 16 + digit;
        }
        return value;
    }

    // Validates one string starting at the opening quote; leaves m_p after the closing quote.
    bool string() {
        ++m_p;
        while (m_p < m_end) {
            auto c = static_cast<unsigned char>(*m_p);
            if (c == '"') {
                ++m_p;
                return true;
            }
            if (c == '\\') {
                if (m_end - m_p < 2) {
                    break;
                }
                char e = m_p[1];
                if (e == 'u') {
                    int unit = code_unit(m_p);
                    if (unit < 0) {
                        return fail("invalid \\u escape");
                    }
                    m_p += 6;
                    // UTF-16 surrogates must come in high-low pairs to stand for a character.
                    if (unit >= 0xDC00 && unit <= 0xDFFF) {
                        return fail("unpaired surrogate in a \\u escape");
                    }
                    if (unit >= 0xD800 && unit <= 0xDBFF) {
                        int low = code_unit(m_p);
                        if (low < 0xDC00 || low > 0xDFFF) {
                            return fail("unpaired surrogate in a \\u escape");
                        }
                        m_p += 6;
                    }
                } else if (std::strchr("\"\\/bfnrt", e) != nullptr && e != '\0') {
                    m_p += 2;
                } else {
                    return fail("invalid escape in a string");
                }
            } else if (c < 0x20) {
                return fail("control character in a string");
            } else if (c < 0x80) {
                ++m_p;
            } else if (!utf8()) {
                return fail("invalid UTF-8 in a string");
            }
        }
        return fail("unterminated string");
    }

    // One multi-byte UTF-8 sequence (no overlongs, surrogates or values past U+10FFFF).
    bool utf8() {
        auto at = [&](ptrdiff_t i) { return static_cast<unsigned char>(m_p[i]); };
        auto cont = [&](ptrdiff_t i) { return m_end - m_p > i && (at(i) & 0xC0) == 0x80; };
        unsigned char c = at(0);
        if (c >= 0xC2 && c <= 0xDF && cont(1)) {
            m_p += 2;
            return true;
        }
        if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2)) {
            if ((c == 0xE0 && at(1) < 0xA0) || (c == 0xED && at(1) > 0x9F)) {
                return false;
            }
            m_p += 3;
            return true;
        }
        if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3)) {
            if ((c == 0xF0 && at(1) < 0x90) || (c == 0xF4 && at(1) > 0x8F)) {
                return false;
            }
            m_p += 4;
            return true;
        }
        return false;
    }

    bool digits() {
        const char* start = m_p;
        while (m_p < m_end && *m_p >= '0' && *m_p <= '9') {
            ++m_p;
        }
        return m_p > start;
    }

    bool number() {
        const char* start = m_p;
        if (m_p < m_end && *m_p == '-') {
            ++m_p;
        }
        if (m_p < m_end && *m_p == '0') {
            ++m_p;
        } else if (m_p >= m_end || *m_p < '1' || *m_p > '9' || !digits()) {
            return fail("expected a value");
        }
        if (m_p < m_end && *m_p == '.') {
            ++m_p;
            if (!digits()) {
                return fail("expected digits after '.'");
            }
        }
        if (m_p < m_end && (*m_p == 'e' || *m_p == 'E')) {
            ++m_p;
            if (m_p < m_end && (*m_p == '+' || *m_p == '-')) {
                ++m_p;
            }
            if (!digits()) {
                return fail("expected digits in the exponent");
            }
            // Only an exponent (or a huge mantissa) can leave the range of a double.
            std::string token(start, m_p);
            if (std::isinf(std::strtod(token.c_str(), nullptr))) {
                return fail("number out of range");
            }
        } else if (m_p - start > 308) {
            std::string token(start, m_p);
            if (std::isinf(std::strtod(token.c_str(), nullptr))) {
                return fail("number out of range");
            }
        }
        return true;
    }

    const char* m_p;
    const char* m_begin;
    const char* m_end;
    BodySummary& m_out;
};
} // namespace

BodySummary scan_body(std::string_view body) {
    BodySummary summary;
    summary.valid_json = Scanner(body, summary).run();
    if (!summary.valid_json) {
        summary.is_object = false;
        summary.model.clear();
        summary.has_model = false;
        summary.stream = false;
        summary.include_usage = false;
    }
    return summary;
}

} // namespace aimo::proxy
