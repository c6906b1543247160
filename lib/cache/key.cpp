#include "cache/key.hpp"

#include "crypto/encoding.hpp"

#include <nlohmann/json.hpp>

namespace aimo::cache {

namespace {
using nlohmann::json;

std::string canonical(const json& value) {
    // nlohmann's objects are ordered maps: dump() writes members sorted, without whitespace.
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string hash(std::string_view space, std::string_view route, std::string_view kind,
                 const json& body) {
    std::string text;
    text.append(kind).append("\n").append(space).append("\n").append(route).append("\n");
    text += canonical(body);
    return crypto::sha256_hex(text);
}

// The text of a message's content: a string, or text parts only (an image makes it none).
std::optional<std::string> plain_text(const json& content) {
    if (content.is_string()) {
        return content.get<std::string>();
    }
    if (!content.is_array()) {
        return std::nullopt;
    }
    std::string text;
    for (const auto& part : content) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") ||
            !part["text"].is_string()) {
            return std::nullopt;
        }
        text += text.empty() ? "" : "\n";
        text += part["text"].get<std::string>();
    }
    return text;
}
} // namespace

RequestKey request_key(std::string_view body, std::string_view route, std::string_view space,
                       bool sampled) {
    RequestKey key;
    json doc = json::parse(body, nullptr, false);
    if (!doc.is_object()) {
        key.why_not = "body is not a JSON object";
        return key;
    }
    if (!sampled) {
        auto temperature = doc.find("temperature");
        if (temperature == doc.end() || !temperature->is_number() ||
            temperature->get<double>() > 0) {
            key.why_not = "the request samples (temperature is not 0)";
            return key;
        }
    }
    if (auto n = doc.find("n");
        n != doc.end() && !(n->is_number_integer() && n->get<int64_t>() == 1)) {
        key.why_not = "several choices asked for";
        return key;
    }
    if (auto logprobs = doc.find("logprobs");
        logprobs != doc.end() && *logprobs != false && !logprobs->is_null()) {
        key.why_not = "logprobs asked for";
        return key;
    }
    for (const char* ignored : {"stream", "stream_options", "user"}) {
        doc.erase(ignored);
    }
    key.length_ok = doc.contains("max_tokens") || doc.contains("max_completion_tokens");
    key.cacheable = true;
    key.exact = hash(space, route, "exact", doc);
    auto messages = doc.find("messages");
    if (messages != doc.end() && messages->is_array() && !messages->empty()) {
        auto& last = messages->back();
        if (last.is_object() && last.value("role", "") == "user" && last.contains("content")) {
            if (auto text = plain_text(last["content"]); text && !text->empty()) {
                key.last_user = std::move(*text);
                last["content"] = "";
                key.context = hash(space, route, "context", doc);
            }
        }
    }
    return key;
}

} // namespace aimo::cache
