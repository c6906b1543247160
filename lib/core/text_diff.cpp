#include "core/text_diff.hpp"

#include <fmt/format.h>
#include <vector>

namespace aimo::core {

namespace {
std::vector<std::string_view> split_lines(std::string_view text) {
    std::vector<std::string_view> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}
} // namespace

std::string line_diff(std::string_view before, std::string_view after, size_t context) {
    if (before == after) {
        return {};
    }
    auto a = split_lines(before);
    auto b = split_lines(after);
    // Trim the common head and tail so the quadratic part only sees the changed middle.
    size_t head = 0;
    while (head < a.size() && head < b.size() && a[head] == b[head]) {
        ++head;
    }
    size_t tail = 0;
    while (tail < a.size() - head && tail < b.size() - head &&
           a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) {
        ++tail;
    }
    size_t n = a.size() - head - tail;
    size_t m = b.size() - head - tail;
    // ops: ' ' keep, '-' delete, '+' insert, over the middle.
    std::vector<std::pair<char, std::string_view>> ops;
    if (n * m > 25'000'000) {
        for (size_t i = 0; i < n; ++i) {
            ops.emplace_back('-', a[head + i]);
        }
        for (size_t j = 0; j < m; ++j) {
            ops.emplace_back('+', b[head + j]);
        }
    } else {
        std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
        for (size_t i = n; i-- > 0;) {
            for (size_t j = m; j-- > 0;) {
                lcs[i][j] = a[head + i] == b[head + j] ? lcs[i + 1][j + 1] + 1
                                                       : std::max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        size_t i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && a[head + i] == b[head + j]) {
                ops.emplace_back(' ', a[head + i]);
                ++i;
                ++j;
            } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
                ops.emplace_back('+', b[head + j++]);
            } else {
                ops.emplace_back('-', a[head + i++]);
            }
        }
    }
    std::vector<std::pair<char, std::string_view>> all;
    for (size_t i = 0; i < head; ++i) {
        all.emplace_back(' ', a[i]);
    }
    all.insert(all.end(), ops.begin(), ops.end());
    for (size_t i = a.size() - tail; i < a.size(); ++i) {
        all.emplace_back(' ', a[i]);
    }
    std::string out;
    size_t line = 0; // line number in `after`
    size_t last_printed = SIZE_MAX;
    for (size_t k = 0; k < all.size(); ++k) {
        bool near_change = false;
        for (size_t d = (k >= context ? k - context : 0); d <= k + context && d < all.size(); ++d) {
            near_change = near_change || all[d].first != ' ';
        }
        if (all[k].first != '-') {
            ++line;
        }
        if (!near_change) {
            continue;
        }
        if (last_printed == SIZE_MAX || k != last_printed + 1) {
            out += fmt::format("@@ line {} @@\n", all[k].first == '-' ? line + 1 : line);
        }
        out += fmt::format("{}{}\n", all[k].first, all[k].second);
        last_printed = k;
    }
    return out;
}

} // namespace aimo::core
