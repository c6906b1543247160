#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace aimo::core {

/// `value` as JSON text, never throwing: a string holding bytes that are not UTF-8 (bytes from
/// outside: paths, headers, upstream text) has them replaced by U+FFFD instead of making
/// nlohmann's dump() throw. Every JSON aimo writes goes through here. `indent` as dump's.
template <typename Json> std::string json_text(const Json& value, int indent = -1) {
    return value.dump(indent, ' ', false, nlohmann::detail::error_handler_t::replace);
}

/// The deepest nesting of arrays and objects in `text` (strings skipped), stopping once past
/// `limit`: documents too deep to walk or dump recursively are refused before they are parsed.
int nesting_depth(std::string_view text, int limit);

/// `text` parsed when it is valid JSON nested at most `max_depth` deep; otherwise a discarded
/// value (is_discarded()). Never throws.
nlohmann::json parse_bounded(std::string_view text, int max_depth = 128);

} // namespace aimo::core
