#include "anthropic/reverse.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "openai/fields.hpp"
#include "openai/request_reader.hpp"
#include "openai/sse.hpp"

#include <fmt/format.h>

namespace aimo::anthropic {

using nlohmann::json;

namespace {
const openai::RequestReader reader{
    "this model's provider speaks Anthropic Messages; see "
    "https://platform.openai.com/docs/api-reference/chat for what translates"};

// A chat content value (a string, or parts) as text alone, for system and tool messages.
std::string text_of(const json& content, const std::string& where) {
    if (content.is_string()) {
        return content.get<std::string>();
    }
    if (content.is_null()) {
        return "";
    }
    if (!content.is_array()) {
        reader.refuse(where + ": a string or an array of parts is required");
    }
    std::string text;
    for (size_t i = 0; i < content.size(); ++i) {
        text += text.empty() ? "" : "\n";
        text += reader.string_at(content[i], "text", fmt::format("{}[{}]", where, i));
    }
    return text;
}

json image_block(const json& part, const std::string& where) {
    const json* image = openai::field(part, "image_url");
    const std::string* url = image ? (image->is_string() ? &image->get_ref<const std::string&>()
                                                         : openai::string_field(*image, "url"))
                                   : nullptr;
    if (url == nullptr) {
        reader.refuse(where + ".image_url.url: a string is required");
    }
    if (url->rfind("data:", 0) == 0) {
        auto comma = url->find(',');
        auto semicolon = url->find(";base64");
        if (comma == std::string::npos || semicolon == std::string::npos || semicolon > comma) {
            reader.refuse(where + ": a data: URL must be base64 (data:<type>;base64,<data>)");
        }
        return {{"type", "image"},
                {"source",
                 {{"type", "base64"},
                  {"media_type", url->substr(5, semicolon - 5)},
                  {"data", url->substr(comma + 1)}}}};
    }
    return {{"type", "image"}, {"source", {{"type", "url"}, {"url", *url}}}};
}

json user_blocks(const json& content, const std::string& where) {
    if (content.is_string()) {
        return json::array({{{"type", "text"}, {"text", content}}});
    }
    if (!content.is_array()) {
        reader.refuse(where + ": a string or an array of parts is required");
    }
    json blocks = json::array();
    for (size_t i = 0; i < content.size(); ++i) {
        std::string at = fmt::format("{}[{}]", where, i);
        auto type = openai::string_or(content[i], "type");
        if (type == "text") {
            blocks.push_back(
                {{"type", "text"}, {"text", reader.string_at(content[i], "text", at)}});
        } else if (type == "image_url") {
            blocks.push_back(image_block(content[i], at));
        } else {
            reader.refuse(fmt::format("{}: a '{}' part cannot be sent to Anthropic", at, type));
        }
    }
    return blocks;
}

json assistant_blocks(const json& message, const std::string& where) {
    json blocks = json::array();
    if (const auto* content = openai::field(message, "content"); content && !content->is_null()) {
        if (auto text = text_of(*content, where + ".content"); !text.empty()) {
            blocks.push_back({{"type", "text"}, {"text", std::move(text)}});
        }
    }
    if (const auto* calls = openai::field(message, "tool_calls"); calls && calls->is_array()) {
        for (size_t i = 0; i < calls->size(); ++i) {
            std::string at = fmt::format("{}.tool_calls[{}]", where, i);
            const json* function = openai::field((*calls)[i], "function");
            if (function == nullptr) {
                reader.refuse(at + ".function: an object is required");
            }
            json input = core::parse_bounded(openai::string_or(*function, "arguments", "{}"));
            if (!input.is_object()) {
                reader.refuse(at + ".function.arguments: a JSON object is required");
            }
            blocks.push_back({{"type", "tool_use"},
                              {"id", reader.string_at((*calls)[i], "id", at)},
                              {"name", reader.string_at(*function, "name", at + ".function")},
                              {"input", std::move(input)}});
        }
    }
    return blocks;
}

// Appends `blocks` as a `role` message, merged into the last one when it has that role.
void add(json& messages, const std::string& role, json blocks) {
    if (blocks.empty()) {
        return;
    }
    if (!messages.empty() && messages.back()["role"] == role) {
        for (auto& block : blocks) {
            messages.back()["content"].push_back(std::move(block));
        }
        return;
    }
    messages.push_back({{"role", role}, {"content", std::move(blocks)}});
}

json tool_choice_of(const json& choice, const json* parallel) {
    json out;
    if (choice.is_string()) {
        auto kind = choice.get<std::string>();
        if (kind == "required") {
            out = {{"type", "any"}};
        } else if (kind == "auto" || kind == "none") {
            out = {{"type", kind}};
        } else {
            reader.refuse(fmt::format("tool_choice '{}' is not one of auto, none, required", kind));
        }
    } else if (const auto* function = openai::field(choice, "function")) {
        out = {{"type", "tool"}, {"name", reader.string_at(*function, "name", "tool_choice")}};
    } else {
        out = {{"type", "auto"}};
    }
    if (parallel && parallel->is_boolean() && !parallel->get<bool>() && out["type"] != "none") {
        out["disable_parallel_tool_use"] = true;
    }
    return out;
}

std::string_view finish_reason(std::string_view stop_reason) {
    if (stop_reason == "max_tokens") {
        return "length";
    }
    if (stop_reason == "tool_use") {
        return "tool_calls";
    }
    if (stop_reason == "refusal") {
        return "content_filter";
    }
    return "stop";
}

json chat_usage(int64_t prompt, int64_t cached, int64_t completion) {
    return {{"prompt_tokens", prompt},
            {"completion_tokens", completion},
            {"total_tokens", prompt + completion},
            {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}
} // namespace

MessagesRequest to_messages(std::string_view chat_body) {
    json request = reader.parse_object(chat_body);
    MessagesRequest out;
    out.model = reader.string_at(request, "model", "request");
    for (const char* refused : {"response_format", "logprobs", "audio"}) {
        if (const auto* found = openai::field(request, refused);
            found && !found->is_null() && *found != false) {
            reader.refuse(fmt::format("{} cannot be sent to Anthropic Messages", refused));
        }
    }
    if (openai::int_field(request, "n") > 1) {
        reader.refuse("n: Anthropic Messages gives one answer per request");
    }
    const json* messages = openai::field(request, "messages");
    if (messages == nullptr || !messages->is_array()) {
        reader.refuse("messages: an array is required");
    }
    std::string system;
    json turns = json::array();
    for (size_t i = 0; i < messages->size(); ++i) {
        const auto& message = (*messages)[i];
        std::string at = fmt::format("messages[{}]", i);
        const auto& role = reader.string_at(message, "role", at);
        static const json none;
        const json* content = openai::field(message, "content");
        content = content ? content : &none;
        if (role == "system" || role == "developer") {
            system += system.empty() ? "" : "\n\n";
            system += text_of(*content, at + ".content");
        } else if (role == "user") {
            add(turns, "user", user_blocks(*content, at + ".content"));
        } else if (role == "assistant") {
            add(turns, "assistant", assistant_blocks(message, at));
        } else if (role == "tool") {
            add(turns, "user",
                json::array({{{"type", "tool_result"},
                              {"tool_use_id", reader.string_at(message, "tool_call_id", at)},
                              {"content", text_of(*content, at + ".content")}}}));
        } else {
            reader.refuse(fmt::format("{}.role '{}' is not one of system, developer, user, "
                                      "assistant, tool",
                                      at, role));
        }
    }
    json body = {{"model", out.model}};
    int64_t max_tokens = openai::int_field(request, "max_tokens");
    if (max_tokens <= 0) {
        max_tokens = openai::int_field(request, "max_completion_tokens");
    }
    body["max_tokens"] = max_tokens > 0 ? max_tokens : 4096;
    if (!system.empty()) {
        body["system"] = std::move(system);
    }
    body["messages"] = std::move(turns);
    reader.copy_numbers(request, body, {"temperature", "top_p"});
    if (const auto* stop = openai::field(request, "stop"); stop && !stop->is_null()) {
        body["stop_sequences"] = stop->is_string() ? json::array({*stop}) : *stop;
    }
    if (const auto* tools = openai::field(request, "tools"); tools && tools->is_array()) {
        json out_tools = json::array();
        for (size_t i = 0; i < tools->size(); ++i) {
            std::string at = fmt::format("tools[{}]", i);
            const json* function = openai::field((*tools)[i], "function");
            if (function == nullptr) {
                reader.refuse(at + ".function: an object is required");
            }
            json tool = {{"name", reader.string_at(*function, "name", at + ".function")}};
            if (const auto* description = openai::string_field(*function, "description")) {
                tool["description"] = *description;
            }
            const json* schema = openai::field(*function, "parameters");
            tool["input_schema"] = schema && schema->is_object()
                                       ? *schema
                                       : json{{"type", "object"}, {"properties", json::object()}};
            out_tools.push_back(std::move(tool));
        }
        if (!out_tools.empty()) {
            body["tools"] = std::move(out_tools);
        }
    }
    const json* parallel = openai::field(request, "parallel_tool_calls");
    if (const auto* choice = openai::field(request, "tool_choice"); choice && !choice->is_null()) {
        body["tool_choice"] = tool_choice_of(*choice, parallel);
    } else if (body.contains("tools") && parallel && *parallel == false) {
        body["tool_choice"] = tool_choice_of("auto", parallel);
    }
    if (const auto* user = openai::string_field(request, "user")) {
        body["metadata"] = {{"user_id", *user}};
    }
    out.stream = reader.stream_flag(request);
    if (out.stream) {
        body["stream"] = true;
        const json* options = openai::field(request, "stream_options");
        out.include_usage = options && openai::field(*options, "include_usage") &&
                            *openai::field(*options, "include_usage") == true;
    }
    out.body = core::json_text(body);
    return out;
}

json completion_of(const json& message, std::string_view model, int64_t created) {
    const json* content = openai::field(message, "content");
    if (openai::string_or(message, "type") != "message" || content == nullptr ||
        !content->is_array()) {
        throw core::Error(core::ErrorKind::upstream_protocol,
                          "the provider's answer is not an Anthropic message",
                          "check the provider's base_url points at the Messages API (…/v1)");
    }
    std::string text;
    json calls = json::array();
    for (const auto& block : *content) {
        auto type = openai::string_or(block, "type");
        if (type == "text") {
            text += openai::string_or(block, "text");
        } else if (type == "tool_use") {
            const json* input = openai::field(block, "input");
            calls.push_back({{"id", openai::string_or(block, "id")},
                             {"type", "function"},
                             {"function",
                              {{"name", openai::string_or(block, "name")},
                               {"arguments", input ? core::json_text(*input) : "{}"}}}});
        }
    }
    json reply = {{"role", "assistant"}, {"content", text}};
    if (!calls.empty()) {
        reply["tool_calls"] = std::move(calls);
    }
    static const json none = json::object();
    const json* usage = openai::field(message, "usage");
    usage = usage ? usage : &none;
    int64_t cached = openai::int_field(*usage, "cache_read_input_tokens");
    int64_t prompt = openai::int_field(*usage, "input_tokens") + cached +
                     openai::int_field(*usage, "cache_creation_input_tokens");
    return {{"id", openai::string_or(message, "id", "chatcmpl-aimo")},
            {"object", "chat.completion"},
            {"created", created},
            {"model", model},
            {"choices",
             {{{"index", 0},
               {"message", std::move(reply)},
               {"finish_reason", finish_reason(openai::string_or(message, "stop_reason"))}}}},
            {"usage", chat_usage(prompt, cached, openai::int_field(*usage, "output_tokens"))}};
}

std::string ChatStreamTranslator::chunk(json delta, const json& finish) const {
    return openai::data_event(core::json_text(json{
        {"id", m_id},
        {"object", "chat.completion.chunk"},
        {"created", m_created},
        {"model", m_model},
        {"choices", {{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish}}}}}));
}

std::string ChatStreamTranslator::fail(std::string_view code, std::string_view message) {
    m_finished = true;
    return openai::data_event(core::json_text(
        json{{"error", {{"message", message}, {"type", "upstream_error"}, {"code", code}}}}));
}

std::string ChatStreamTranslator::translate(std::string_view event) {
    if (m_finished) {
        return {};
    }
    auto data = openai::event_data(event);
    if (!data) {
        return ": ping\n\n"; // a keep-alive comment
    }
    json parsed = core::parse_bounded(*data);
    auto type = openai::string_or(parsed, "type");
    static const json none = json::object();
    if (type == "message_start") {
        const json* message = openai::field(parsed, "message");
        message = message ? message : &none;
        m_id = openai::string_or(*message, "id", m_id);
        if (const auto* usage = openai::field(*message, "usage")) {
            m_cached = openai::int_field(*usage, "cache_read_input_tokens");
            m_prompt = openai::int_field(*usage, "input_tokens") + m_cached +
                       openai::int_field(*usage, "cache_creation_input_tokens");
        }
        return chunk({{"role", "assistant"}, {"content", ""}});
    }
    if (type == "content_block_start") {
        const json* block = openai::field(parsed, "content_block");
        if (block && openai::string_or(*block, "type") == "tool_use") {
            int tool = m_tools++;
            m_tool_of_block[openai::int_field(parsed, "index")] = tool;
            return chunk(
                {{"tool_calls",
                  {{{"index", tool},
                    {"id", openai::string_or(*block, "id")},
                    {"type", "function"},
                    {"function",
                     {{"name", openai::string_or(*block, "name")}, {"arguments", ""}}}}}}});
        }
        return {};
    }
    if (type == "content_block_delta") {
        const json* delta = openai::field(parsed, "delta");
        delta = delta ? delta : &none;
        auto kind = openai::string_or(*delta, "type");
        if (kind == "text_delta") {
            return chunk({{"content", openai::string_or(*delta, "text")}});
        }
        auto tool = m_tool_of_block.find(openai::int_field(parsed, "index"));
        if (kind == "input_json_delta" && tool != m_tool_of_block.end()) {
            return chunk(
                {{"tool_calls",
                  {{{"index", tool->second},
                    {"function", {{"arguments", openai::string_or(*delta, "partial_json")}}}}}}});
        }
        return {}; // thinking and signatures have no chat equivalent
    }
    if (type == "message_delta") {
        if (const auto* usage = openai::field(parsed, "usage")) {
            m_completion = openai::int_field(*usage, "output_tokens");
        }
        const json* delta = openai::field(parsed, "delta");
        auto reason = openai::string_or(delta ? *delta : none, "stop_reason");
        return chunk(json::object(), std::string(finish_reason(reason)));
    }
    if (type == "message_stop") {
        m_finished = true;
        std::string out;
        if (m_include_usage) {
            out = openai::data_event(
                core::json_text(json{{"id", m_id},
                                     {"object", "chat.completion.chunk"},
                                     {"created", m_created},
                                     {"model", m_model},
                                     {"choices", json::array()},
                                     {"usage", chat_usage(m_prompt, m_cached, m_completion)}}));
        }
        return out + "data: [DONE]\n\n";
    }
    if (type == "error") {
        const json* error = openai::field(parsed, "error");
        return fail(openai::string_or(error ? *error : none, "type", "upstream_error"),
                    openai::string_or(error ? *error : none, "message", "the provider failed"));
    }
    return {}; // content_block_stop, ping and events yet to be invented
}

std::string ChatStreamTranslator::end() {
    if (m_finished) {
        return {};
    }
    return fail("upstream_stream_interrupted", "the provider's stream ended before message_stop");
}

} // namespace aimo::anthropic
