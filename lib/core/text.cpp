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

} // namespace aimo::core
