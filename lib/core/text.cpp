#include "core/text.hpp"

#include <algorithm>
#include <cctype>

namespace aimo::core {

namespace {
char lower_char(char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}
} // namespace

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return lower_char(x) == lower_char(y);
           });
}

std::string to_lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), lower_char);
    return out;
}

std::vector<std::string> split_list(std::string_view text, char separator) {
    std::vector<std::string> out;
    for (;;) {
        size_t end = text.find(separator);
        auto item = text.substr(0, end);
        if (!item.empty()) {
            out.emplace_back(item);
        }
        if (end == std::string_view::npos) {
            return out;
        }
        text.remove_prefix(end + 1);
    }
}

bool is_simple_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

namespace {
// Length of the well-formed UTF-8 sequence starting `text` (which is not empty and starts with a
// byte >= 0x80), or 0 when there is none.
size_t utf8_sequence(std::string_view text) {
    auto at = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    auto cont = [&](size_t i) { return i < text.size() && (at(i) & 0xC0) == 0x80; };
    unsigned char c = at(0);
    if (c >= 0xC2 && c <= 0xDF) {
        return cont(1) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2) || (c == 0xE0 && at(1) < 0xA0) || (c == 0xED && at(1) > 0x9F)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3) || (c == 0xF0 && at(1) < 0x90) ||
            (c == 0xF4 && at(1) > 0x8F)) {
            return 0;
        }
        return 4;
    }
    return 0;
}
} // namespace

bool is_utf8(std::string_view text) {
    size_t i = 0;
    while (i < text.size()) {
        if (static_cast<unsigned char>(text[i]) < 0x80) {
            ++i;
            continue;
        }
        size_t length = utf8_sequence(text.substr(i));
        if (length == 0) {
            return false;
        }
        i += length;
    }
    return true;
}

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        auto c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7F) {
            if (c == '\\') {
                out += '\\';
            }
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        size_t length = c >= 0x80 ? utf8_sequence(text.substr(i)) : 0;
        if (length > 0) {
            out.append(text.substr(i, length));
            i += length;
            continue;
        }
        static constexpr char digits[] = "0123456789abcdef";
        out += "\\x";
        out += digits[c >> 4];
        out += digits[c & 15];
        ++i;
    }
    return out;
}

} // namespace aimo::core
