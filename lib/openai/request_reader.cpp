#include "openai/request_reader.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "openai/fields.hpp"

#include <fmt/format.h>

namespace aimo::openai {

using nlohmann::json;

void RequestReader::refuse(std::string message, std::string hint) const {
    throw core::Error(core::ErrorKind::invalid_input, std::move(message),
                      hint.empty() ? m_hint : std::move(hint));
}

json RequestReader::parse_object(std::string_view body) const {
    json parsed = core::parse_bounded(body);
    if (parsed.is_discarded()) {
        refuse("request body is not valid JSON (or nested more than 128 deep)");
    }
    if (!parsed.is_object()) {
        refuse("request body must be a JSON object");
    }
    return parsed;
}

const std::string& RequestReader::string_at(const json& object, const char* key,
                                            const std::string& where) const {
    const auto* found = string_field(object, key);
    if (found == nullptr) {
        refuse(fmt::format("{}.{}: a string is required", where, key));
    }
    return *found;
}

void RequestReader::copy_numbers(const json& from, json& to,
                                 std::initializer_list<const char*> keys) const {
    for (const char* key : keys) {
        if (const auto* found = field(from, key); found && !found->is_null()) {
            if (!found->is_number()) {
                refuse(fmt::format("{}: a number is required", key));
            }
            to[key] = *found;
        }
    }
}

bool RequestReader::stream_flag(const json& from) const {
    const auto* stream = field(from, "stream");
    if (stream == nullptr || stream->is_null()) {
        return false;
    }
    if (!stream->is_boolean()) {
        refuse("stream: true or false is required");
    }
    return stream->get<bool>();
}

} // namespace aimo::openai
