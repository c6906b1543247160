#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace aimo::openai {

/// Readers for JSON that came from outside (an upstream's answer, a client's body): each
/// returns the field only when it has the expected type, never throwing as nlohmann's value()
/// does on a mismatch.

/// `object[key]` when `object` is an object holding a string there; else nullptr.
inline const std::string* string_field(const nlohmann::json& object, const char* key) {
    if (!object.is_object()) {
        return nullptr;
    }
    auto found = object.find(key);
    return found != object.end() && found->is_string() ? &found->get_ref<const std::string&>()
                                                       : nullptr;
}

/// `object[key]` as a string, or `fallback`.
inline std::string string_or(const nlohmann::json& object, const char* key,
                             std::string fallback = {}) {
    const auto* found = string_field(object, key);
    return found ? *found : std::move(fallback);
}

/// `object[key]` when it is a JSON value of any kind; else nullptr.
inline const nlohmann::json* field(const nlohmann::json& object, const char* key) {
    if (!object.is_object()) {
        return nullptr;
    }
    auto found = object.find(key);
    return found != object.end() ? &*found : nullptr;
}

/// `object[key]` as an integer when it is a number; else 0.
inline int64_t int_field(const nlohmann::json& object, const char* key) {
    const auto* found = field(object, key);
    return found && found->is_number() ? found->get<int64_t>() : 0;
}

/// The tokens a chat completion's (or chunk's) `usage` reports.
struct ChatUsage {
    bool found = false;
    int64_t prompt = 0;
    int64_t completion = 0;
    int64_t cached = 0; ///< of the prompt, read from a cache (prompt_tokens_details)
};

/// `usage` of a chat completion or chunk; found = false when it has none.
inline ChatUsage chat_usage(const nlohmann::json& completion) {
    const auto* usage = field(completion, "usage");
    if (usage == nullptr || !usage->is_object()) {
        return {};
    }
    ChatUsage out{true, int_field(*usage, "prompt_tokens"), int_field(*usage, "completion_tokens"),
                  0};
    if (const auto* details = field(*usage, "prompt_tokens_details")) {
        out.cached = int_field(*details, "cached_tokens");
    }
    return out;
}

/// The first choice of a chat completion or chunk, or nullptr.
inline const nlohmann::json* first_choice(const nlohmann::json& completion) {
    const auto* choices = field(completion, "choices");
    if (choices == nullptr || !choices->is_array() || choices->empty() ||
        !(*choices)[0].is_object()) {
        return nullptr;
    }
    return &(*choices)[0];
}

} // namespace aimo::openai
