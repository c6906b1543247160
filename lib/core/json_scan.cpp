#include "core/json_scan.hpp"

#include "core/json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>

namespace aimo::core {

bool JsonCursor::fail(const char* what) {
    if (m_error.empty()) {
        m_error = fmt::format("at byte {}: {}", m_p - m_begin, what);
    }
    return false;
}

bool JsonCursor::literal(const char* word, size_t size) {
    if (static_cast<size_t>(m_end - m_p) < size || std::memcmp(m_p, word, size) != 0) {
        return fail("invalid literal");
    }
    m_p += size;
    return true;
}

// The code unit of a \uXXXX escape at `at`, or -1 when there is none.
int JsonCursor::code_unit(const char* at) const {
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

bool JsonCursor::string() {
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
bool JsonCursor::utf8() {
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

bool JsonCursor::digits() {
    const char* start = m_p;
    while (m_p < m_end && *m_p >= '0' && *m_p <= '9') {
        ++m_p;
    }
    return m_p > start;
}

bool JsonCursor::number() {
    const char* start = m_p;
    if (next_is('-')) {
        ++m_p;
    }
    if (next_is('0')) {
        ++m_p;
    } else if (m_p >= m_end || *m_p < '1' || *m_p > '9' || !digits()) {
        return fail("expected a value");
    }
    if (next_is('.')) {
        ++m_p;
        if (!digits()) {
            return fail("expected digits after '.'");
        }
    }
    bool exponent = next_is('e') || next_is('E');
    if (exponent) {
        ++m_p;
        if (next_is('+') || next_is('-')) {
            ++m_p;
        }
        if (!digits()) {
            return fail("expected digits in the exponent");
        }
    }
    // Only an exponent (or a huge mantissa) can leave the range of a double.
    if (exponent || m_p - start > 308) {
        std::string token(start, m_p);
        if (std::isinf(std::strtod(token.c_str(), nullptr))) {
            return fail("number out of range");
        }
    }
    return true;
}

int nesting_depth(std::string_view text, int limit) {
    int depth = 0;
    int deepest = 0;
    bool in_string = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                in_string = false;
            }
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            deepest = std::max(deepest, ++depth);
            if (deepest > limit) {
                return deepest;
            }
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return deepest;
}

nlohmann::json parse_bounded(std::string_view text, int max_depth) {
    if (nesting_depth(text, max_depth) > max_depth) {
        return nlohmann::json(nlohmann::json::value_t::discarded);
    }
    return nlohmann::json::parse(text, nullptr, false);
}

} // namespace aimo::core
