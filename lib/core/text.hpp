#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace aimo::core {

/// True when `a` and `b` are equal ignoring ASCII case (header names, auth schemes).
bool iequals(std::string_view a, std::string_view b);

/// `text` with its ASCII letters lower-cased.
std::string to_lower(std::string_view text);

/// The non-empty items of `text` separated by `separator` ("a,,b" gives a and b).
std::vector<std::string> split_list(std::string_view text, char separator);

/// True for a non-empty name made only of ASCII letters, digits, '-', '_' and '.': safe as a
/// model-name prefix, in URLs and in file names.
bool is_simple_name(std::string_view name);

} // namespace aimo::core
