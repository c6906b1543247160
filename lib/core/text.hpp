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

/// True when `text` is well-formed UTF-8: no overlong forms, surrogates or values past U+10FFFF.
bool is_utf8(std::string_view text);

/// `text` made safe for a one-line log or message: printable ASCII and well-formed UTF-8 pass
/// unchanged; a backslash becomes `\\`, control characters and bytes that are not UTF-8 become
/// `\xHH`. The result is always valid UTF-8, so it can go into JSON.
std::string printable(std::string_view text);

} // namespace aimo::core
