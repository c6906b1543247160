#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace aimo::openclaw {

/// JSON that keeps keys in the order they were written, so rewriting a user's file does not
/// shuffle it.
using Json = nlohmann::ordered_json;

/// Parses JSON5 (comments, trailing commas, unquoted keys, single-quoted strings, hex numbers,
/// Infinity/NaN, line continuations). Throws core::Error(invalid_input) saying
/// "`source`:LINE:COLUMN: what was expected".
Json parse_json5(std::string_view text, const std::string& source);

/// parse_json5 for a document that must be an object (a config file): anything else is a
/// core::Error(invalid_input) naming `source` and what the top level is instead.
Json parse_json5_object(std::string_view text, const std::string& source);

} // namespace aimo::openclaw
