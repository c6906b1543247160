#pragma once

#include <string>
#include <string_view>

namespace aimo::core {

/// A readable line diff of `before` -> `after`: changed lines prefixed "-" / "+", with up to
/// `context` unchanged lines around each change and "@@ line N @@" headers. Empty when equal.
std::string line_diff(std::string_view before, std::string_view after, size_t context = 2);

} // namespace aimo::core
