#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aimo::core {

/// HTTP header fields in wire order, duplicates kept, names as written. Every look-up compares
/// names without regard to ASCII case (RFC 9110 §5.1), wherever the fields came from.
class Headers {
public:
    using Entry = std::pair<std::string, std::string>;
    using const_iterator = std::vector<Entry>::const_iterator;

    Headers() = default;
    Headers(std::initializer_list<Entry> entries) : m_entries(entries) {}

    /// The value of the first field named `name`, or nullptr.
    const std::string* find(std::string_view name) const;
    /// The value of the first field named `name`, or "" when there is none.
    std::string value(std::string_view name) const;
    /// True when a field named `name` exists.
    bool has(std::string_view name) const { return find(name) != nullptr; }

    /// Appends a field (names and values are not checked: writers drop what has CR or LF).
    void add(std::string name, std::string value) {
        m_entries.emplace_back(std::move(name), std::move(value));
    }
    /// Appends every field of `other`.
    void append(Headers other);
    /// Removes every field named `name`.
    void remove(std::string_view name);
    /// Replaces every field named `name` with one field.
    void set(std::string name, std::string value);

    const_iterator begin() const { return m_entries.begin(); }
    const_iterator end() const { return m_entries.end(); }
    size_t size() const { return m_entries.size(); }
    const Entry& operator[](size_t index) const { return m_entries[index]; }
    bool empty() const { return m_entries.empty(); }
    void reserve(size_t count) { m_entries.reserve(count); }
    bool operator==(const Headers& other) const { return m_entries == other.m_entries; }

private:
    std::vector<Entry> m_entries;
};

/// `text` without the spaces and tabs around it (HTTP's optional whitespace).
inline std::string_view trim_ows(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
        text.remove_suffix(1);
    }
    return text;
}

/// A wait as Retry-After (and x-ratelimit-reset) state it: whole seconds, rounded up, at least 1.
inline int64_t whole_seconds(std::chrono::milliseconds wait) {
    return std::max<int64_t>(1, (wait.count() + 999) / 1000);
}

/// Calls `each` with every non-empty item of the comma-separated header value `list`, trimmed.
template <typename Each> void for_each_list_item(std::string_view list, Each each) {
    for (;;) {
        size_t comma = list.find(',');
        auto item = trim_ows(list.substr(0, comma));
        if (!item.empty()) {
            each(item);
        }
        if (comma == std::string_view::npos) {
            return;
        }
        list.remove_prefix(comma + 1);
    }
}

/// True when `a` and `b` are equal ignoring ASCII case, without the C locale's per-character
/// function call (header names are compared on every request).
inline bool ascii_iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        unsigned char x = static_cast<unsigned char>(a[i]);
        unsigned char y = static_cast<unsigned char>(b[i]);
        if (x != y && ((x | 0x20) != (y | 0x20) || (x | 0x20) < 'a' || (x | 0x20) > 'z')) {
            return false;
        }
    }
    return true;
}

} // namespace aimo::core
