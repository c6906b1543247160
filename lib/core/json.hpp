#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace aimo::core {

/// `value` as JSON text, never throwing: a string holding bytes that are not UTF-8 (bytes from
/// outside: paths, headers, upstream text) has them replaced by U+FFFD instead of making
/// nlohmann's dump() throw. Every JSON aimo writes goes through here. `indent` as dump's.
template <typename Json> std::string json_text(const Json& value, int indent = -1) {
    return value.dump(indent, ' ', false, nlohmann::detail::error_handler_t::replace);
}

} // namespace aimo::core
