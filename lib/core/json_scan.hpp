#pragma once

#include <string>
#include <string_view>

namespace aimo::core {

/// The lexical half of a strict RFC 8259 reader: tokens are validated in place (UTF-8 and
/// escapes checked), nothing is allocated. JsonScan builds the structure on top of it.
class JsonCursor {
public:
    explicit JsonCursor(std::string_view text)
        : m_p(text.data()), m_begin(text.data()), m_end(text.data() + text.size()) {}

    /// Why the text was refused ("at byte N: what"); empty while nothing failed.
    const std::string& error() const { return m_error; }

protected:
    bool fail(const char* what);
    void skip_space() {
        while (m_p < m_end && (*m_p == ' ' || *m_p == '\n' || *m_p == '\r' || *m_p == '\t')) {
            ++m_p;
        }
    }
    bool next_is(char c) const { return m_p < m_end && *m_p == c; }
    bool literal(const char* word, size_t size);
    /// One string, from its opening quote; leaves the cursor after the closing quote.
    bool string();
    bool number();

    const char* m_p;
    const char* m_begin;
    const char* m_end;

private:
    int code_unit(const char* at) const;
    bool utf8();
    bool digits();

    std::string m_error;
};

/// Validates JSON text in one pass and tells `Visitor` about the values it asked for, without
/// building a document. Values are named by slot, an int the visitor chooses (0: not wanted):
///   int key(int slot, int depth, std::string_view key)  slot of the value under `key` in an
///       object (depth 1 is the top level) that itself has `slot`; asked only when slot != 0
///   void object(int slot, int depth)  void array(int slot, bool empty)
///   void string(int slot, std::string_view token)   token with its quotes, escapes undecoded
///   void number(int slot, std::string_view token)   void literal(int slot, std::string_view token)
/// All but key() are called only for slot != 0. Nesting deeper than 512 is refused.
template <typename Visitor> class JsonScan : public JsonCursor {
public:
    JsonScan(std::string_view text, Visitor& visitor) : JsonCursor(text), m_visitor(visitor) {}

    /// True when the text is exactly one valid JSON value; the top value has `root_slot`.
    bool run(int root_slot) {
        skip_space();
        if (!value(0, root_slot)) {
            return false;
        }
        skip_space();
        return m_p == m_end || fail("unexpected text after the JSON value");
    }

private:
    bool value(int depth, int slot) {
        if (m_p >= m_end) {
            return fail("unexpected end of input");
        }
        switch (*m_p) {
        case '{':
            return object(depth + 1, slot);
        case '[':
            return array(depth + 1, slot);
        case '"': {
            const char* start = m_p;
            if (!string()) {
                return false;
            }
            if (slot != 0) {
                m_visitor.string(slot, std::string_view(start, static_cast<size_t>(m_p - start)));
            }
            return true;
        }
        case 't':
        case 'f':
        case 'n': {
            const char* start = m_p;
            bool ok = *m_p == 't'   ? literal("true", 4)
                      : *m_p == 'f' ? literal("false", 5)
                                    : literal("null", 4);
            if (ok && slot != 0) {
                m_visitor.literal(slot, std::string_view(start, static_cast<size_t>(m_p - start)));
            }
            return ok;
        }
        default: {
            const char* start = m_p;
            if (!number()) {
                return false;
            }
            if (slot != 0) {
                m_visitor.number(slot, std::string_view(start, static_cast<size_t>(m_p - start)));
            }
            return true;
        }
        }
    }

    enum class Next { more, done, bad };

    // After an element of an object or array: a ',' (more follows), `close` (done) or neither.
    Next after_element(char close) {
        skip_space();
        if (next_is(',')) {
            ++m_p;
            skip_space();
            return Next::more;
        }
        if (next_is(close)) {
            ++m_p;
            return Next::done;
        }
        return Next::bad;
    }

    bool object(int depth, int slot) {
        if (depth > 512) {
            return fail("nesting is too deep");
        }
        if (slot != 0) {
            m_visitor.object(slot, depth);
        }
        ++m_p; // {
        skip_space();
        if (next_is('}')) {
            ++m_p;
            return true;
        }
        for (;;) {
            if (!next_is('"')) {
                return fail("expected a string key");
            }
            const char* key_start = m_p + 1;
            if (!string()) {
                return false;
            }
            int child = 0;
            if (slot != 0) {
                child = m_visitor.key(
                    slot, depth,
                    std::string_view(key_start, static_cast<size_t>(m_p - 1 - key_start)));
            }
            skip_space();
            if (!next_is(':')) {
                return fail("expected ':' after a key");
            }
            ++m_p;
            skip_space();
            if (!value(depth, child)) {
                return false;
            }
            if (Next next = after_element('}'); next != Next::more) {
                return next == Next::done || fail("expected ',' or '}' in an object");
            }
        }
    }

    bool array(int depth, int slot) {
        if (depth > 512) {
            return fail("nesting is too deep");
        }
        ++m_p; // [
        skip_space();
        bool empty = next_is(']');
        if (slot != 0) {
            m_visitor.array(slot, empty);
        }
        if (empty) {
            ++m_p;
            return true;
        }
        for (;;) {
            if (!value(depth, 0)) {
                return false;
            }
            if (Next next = after_element(']'); next != Next::more) {
                return next == Next::done || fail("expected ',' or ']' in an array");
            }
        }
    }

    Visitor& m_visitor;
};

} // namespace aimo::core
