#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace aimo::openai {

/// Reads a client's request in another dialect for translation: every refusal is a
/// core::Error(invalid_input) naming the field (`messages[2].content[0].text`) with the
/// dialect's `hint`. Never lets nlohmann throw on an unexpected type.
class RequestReader {
public:
    explicit RequestReader(std::string hint) : m_hint(std::move(hint)) {}

    /// Throws core::Error(invalid_input) with `message` and `hint` (the reader's when empty).
    [[noreturn]] void refuse(std::string message, std::string hint = {}) const;
    /// `body` as a JSON object nested at most 128 deep.
    nlohmann::json parse_object(std::string_view body) const;
    /// `object[key]`, which must be a string.
    const std::string& string_at(const nlohmann::json& object, const char* key,
                                 const std::string& where) const;
    /// Copies each of `keys` that `from` has (not null) to `to`; each must be a number.
    void copy_numbers(const nlohmann::json& from, nlohmann::json& to,
                      std::initializer_list<const char*> keys) const;
    /// `from["stream"]`: absent or null is false; anything but a boolean is refused.
    bool stream_flag(const nlohmann::json& from) const;

private:
    std::string m_hint;
};

} // namespace aimo::openai
