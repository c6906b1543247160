#include "anthropic/messages.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "openai/fields.hpp"
#include "openai/request_reader.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace aimo::anthropic {

using nlohmann::json;

namespace {
constexpr const char* hint = "see https://docs.anthropic.com/en/api/messages for the request shape";

const openai::RequestReader reader{hint};

// The text of a `system` value or a tool result's content: a string, or text blocks joined.
std::string text_of(const json& value, const std::string& where) {
    if (value.is_string()) {
        return value.get<std::string>();
    }
    if (value.is_null()) {
        return "";
    }
    if (!value.is_array()) {
        reader.refuse(where + ": a string or an array of content blocks is required");
    }
    std::string text;
    for (const auto& block : value) {
        if (!block.is_object()) {
            reader.refuse(where + ": every content block must be an object");
        }
        auto type = openai::string_or(block, "type");
        if (type == "text") {
            text += text.empty() ? "" : "\n\n";
            text += reader.string_at(block, "text", where);
        } else if (type == "image") {
            text += text.empty() ? "" : "\n\n";
            text += "[image]"; // a chat tool message or system prompt carries text only
        } else {
            reader.refuse(fmt::format("{}: a '{}' block cannot be translated to chat completions",
                                      where, type));
        }
    }
    return text;
}

json image_part(const json& block, const std::string& where) {
    auto source = block.find("source");
    if (source == block.end() || !source->is_object()) {
        reader.refuse(where + ".source: an object is required");
    }
    auto kind = openai::string_or(*source, "type");
    std::string url;
    if (kind == "base64") {
        url = "data:" + reader.string_at(*source, "media_type", where + ".source") + ";base64," +
              reader.string_at(*source, "data", where + ".source");
    } else if (kind == "url") {
        url = reader.string_at(*source, "url", where + ".source");
    } else {
        reader.refuse(
            fmt::format("{}.source.type '{}' is not supported; use base64 or url", where, kind));
    }
    return {{"type", "image_url"}, {"image_url", {{"url", std::move(url)}}}};
}

// Text parts alone become one string (every chat upstream takes that); otherwise the parts.
json content_of(const json& parts) {
    std::string text;
    for (const auto& part : parts) {
        if (part["type"] != "text") {
            return parts;
        }
        text += text.empty() ? "" : "\n";
        text += part["text"].get_ref<const std::string&>();
    }
    return text;
}

void add_user(json& out, const json& content, const std::string& where) {
    if (content.is_string()) {
        out.push_back({{"role", "user"}, {"content", content}});
        return;
    }
    json parts = json::array();
    for (size_t i = 0; i < content.size(); ++i) {
        const auto& block = content[i];
        std::string at = fmt::format("{}.content[{}]", where, i);
        if (!block.is_object()) {
            reader.refuse(at + ": a content block must be an object");
        }
        auto type = openai::string_or(block, "type");
        if (type == "text") {
            parts.push_back({{"type", "text"}, {"text", reader.string_at(block, "text", at)}});
        } else if (type == "image") {
            parts.push_back(image_part(block, at));
        } else if (type == "tool_result") {
            // Tool results answer the assistant's calls: they come first, one message each.
            std::string text =
                text_of(block.contains("content") ? block["content"] : json(), at + ".content");
            if (openai::field(block, "is_error") && *openai::field(block, "is_error") == true) {
                text = "Error: " + text;
            }
            out.push_back({{"role", "tool"},
                           {"tool_call_id", reader.string_at(block, "tool_use_id", at)},
                           {"content", std::move(text)}});
        } else {
            reader.refuse(
                fmt::format("{}: a '{}' block cannot be translated to chat completions", at, type));
        }
    }
    if (!parts.empty()) {
        out.push_back({{"role", "user"}, {"content", content_of(parts)}});
    }
}

void add_assistant(json& out, const json& content, const std::string& where) {
    if (content.is_string()) {
        out.push_back({{"role", "assistant"}, {"content", content}});
        return;
    }
    std::string text;
    json calls = json::array();
    for (size_t i = 0; i < content.size(); ++i) {
        const auto& block = content[i];
        std::string at = fmt::format("{}.content[{}]", where, i);
        if (!block.is_object()) {
            reader.refuse(at + ": a content block must be an object");
        }
        auto type = openai::string_or(block, "type");
        if (type == "text") {
            text += reader.string_at(block, "text", at);
        } else if (type == "tool_use") {
            auto input = block.find("input");
            calls.push_back({{"id", reader.string_at(block, "id", at)},
                             {"type", "function"},
                             {"function",
                              {{"name", reader.string_at(block, "name", at)},
                               {"arguments", core::json_text(input == block.end() ? json::object()
                                                                                  : *input)}}}});
        } else if (type != "thinking" && type != "redacted_thinking") {
            reader.refuse(
                fmt::format("{}: a '{}' block cannot be translated to chat completions", at, type));
        }
    }
    json message = {{"role", "assistant"}, {"content", text.empty() ? json() : json(text)}};
    if (!calls.empty()) {
        message["tool_calls"] = std::move(calls);
    }
    out.push_back(std::move(message));
}

json messages_of(const json& request) {
    json out = json::array();
    if (auto system = request.find("system"); system != request.end()) {
        std::string text = text_of(*system, "system");
        if (!text.empty()) {
            out.push_back({{"role", "system"}, {"content", std::move(text)}});
        }
    }
    auto messages = request.find("messages");
    if (messages == request.end() || !messages->is_array()) {
        reader.refuse("messages: an array is required");
    }
    for (size_t i = 0; i < messages->size(); ++i) {
        const auto& message = (*messages)[i];
        std::string at = fmt::format("messages[{}]", i);
        if (!message.is_object()) {
            reader.refuse(at + ": a message must be an object");
        }
        const auto& role = reader.string_at(message, "role", at);
        auto content = message.find("content");
        if (content == message.end() || !(content->is_string() || content->is_array())) {
            reader.refuse(at + ".content: a string or an array of content blocks is required");
        }
        if (role == "user") {
            add_user(out, *content, at);
        } else if (role == "assistant") {
            add_assistant(out, *content, at);
        } else if (role == "system") {
            // Claude Code sends system reminders between turns this way.
            out.push_back({{"role", "system"}, {"content", text_of(*content, at + ".content")}});
        } else {
            reader.refuse(
                fmt::format("{}.role '{}' is not one of user, assistant, system", at, role));
        }
    }
    return out;
}

json tools_of(const json& tools) {
    if (!tools.is_array()) {
        reader.refuse("tools: an array is required");
    }
    json out = json::array();
    for (size_t i = 0; i < tools.size(); ++i) {
        const auto& tool = tools[i];
        std::string at = fmt::format("tools[{}]", i);
        if (!tool.is_object()) {
            reader.refuse(at + ": a tool must be an object");
        }
        auto schema = tool.find("input_schema");
        if (schema == tool.end() || !schema->is_object()) {
            reader.refuse(fmt::format(
                "{}: '{}' is a server tool (no input_schema); only custom tools can "
                "be translated to chat completions",
                at, openai::string_or(tool, "type", openai::string_or(tool, "name", "?"))));
        }
        json function = {{"name", reader.string_at(tool, "name", at)}, {"parameters", *schema}};
        if (auto description = tool.find("description"); description != tool.end()) {
            function["description"] = *description;
        }
        out.push_back({{"type", "function"}, {"function", std::move(function)}});
    }
    return out;
}

void add_tool_choice(json& chat, const json& choice) {
    if (!choice.is_object()) {
        reader.refuse("tool_choice: an object such as {\"type\":\"auto\"} is required");
    }
    auto type = openai::string_or(choice, "type");
    if (type == "auto") {
        chat["tool_choice"] = "auto";
    } else if (type == "any") {
        chat["tool_choice"] = "required";
    } else if (type == "none") {
        chat["tool_choice"] = "none";
    } else if (type == "tool") {
        chat["tool_choice"] = {
            {"type", "function"},
            {"function", {{"name", reader.string_at(choice, "name", "tool_choice")}}}};
    } else {
        reader.refuse(
            fmt::format("tool_choice.type '{}' is not one of auto, any, tool, none", type));
    }
    if (choice.contains("disable_parallel_tool_use") &&
        choice["disable_parallel_tool_use"] == true) {
        chat["parallel_tool_calls"] = false;
    }
}

int64_t count_text(const json& value) {
    switch (value.type()) {
    case json::value_t::string:
        return static_cast<int64_t>(value.get_ref<const std::string&>().size());
    case json::value_t::array: {
        int64_t sum = 0;
        for (const auto& item : value) {
            sum += count_text(item);
        }
        return sum;
    }
    case json::value_t::object: {
        if (openai::string_or(value, "type") == "image") {
            return 4 * 1600; // counted as 1,600 tokens, whatever its size
        }
        int64_t sum = 0;
        for (const auto& [key, item] : value.items()) {
            if (key == "type" || key == "role" || key == "cache_control" || key == "id" ||
                key == "tool_use_id") {
                continue;
            }
            sum += key == "input" || key == "input_schema"
                       ? static_cast<int64_t>(core::json_text(item).size())
                       : count_text(item);
        }
        return sum;
    }
    default:
        return 0;
    }
}
} // namespace

ChatRequest to_chat(std::string_view body) {
    json request = reader.parse_object(body);
    ChatRequest out;
    out.model = reader.string_at(request, "model", "request");
    json chat = {{"model", out.model}, {"messages", messages_of(request)}};
    auto max_tokens = request.find("max_tokens");
    if (max_tokens == request.end() || !max_tokens->is_number_integer() || *max_tokens < 1) {
        reader.refuse("max_tokens: a positive integer is required");
    }
    chat["max_tokens"] = *max_tokens;
    reader.copy_numbers(request, chat, {"temperature", "top_p"});
    if (auto stops = request.find("stop_sequences"); stops != request.end() && !stops->empty()) {
        if (!stops->is_array() || !std::all_of(stops->begin(), stops->end(),
                                               [](const json& s) { return s.is_string(); })) {
            reader.refuse("stop_sequences: an array of strings is required");
        }
        chat["stop"] = *stops;
    }
    if (auto tools = request.find("tools"); tools != request.end() && !tools->empty()) {
        chat["tools"] = tools_of(*tools);
    }
    if (auto choice = request.find("tool_choice"); choice != request.end() && !choice->is_null()) {
        add_tool_choice(chat, *choice);
    }
    if (auto metadata = request.find("metadata");
        metadata != request.end() && metadata->is_object() && metadata->contains("user_id")) {
        chat["user"] = (*metadata)["user_id"];
    }
    out.stream = reader.stream_flag(request);
    if (out.stream) {
        chat["stream"] = true;
        chat["stream_options"] = {{"include_usage", true}};
    }
    out.body = core::json_text(chat);
    return out;
}

std::string_view stop_reason(std::string_view finish_reason, bool matched_stop_sequence) {
    if (finish_reason == "length") {
        return "max_tokens";
    }
    if (finish_reason == "tool_calls" || finish_reason == "function_call") {
        return "tool_use";
    }
    if (finish_reason == "content_filter") {
        return "refusal";
    }
    return matched_stop_sequence ? "stop_sequence" : "end_turn";
}

// The stop string a choice says it stopped at: vLLM's `stop_reason`, SGLang's `matched_stop`.
json matched_stop(const json& choice) {
    for (const char* key : {"stop_reason", "matched_stop"}) {
        if (const auto* found = openai::string_field(choice, key)) {
            return *found;
        }
    }
    return nullptr;
}

nlohmann::json from_chat(const nlohmann::json& completion, std::string_view model) {
    const json* choice = openai::first_choice(completion);
    if (choice == nullptr) {
        throw core::Error(core::ErrorKind::upstream_protocol,
                          "the provider's answer is not a chat completion",
                          "check the provider's base_url points at an OpenAI-compatible API");
    }
    static const json none = json::object();
    const json* message = openai::field(*choice, "message");
    message = message && message->is_object() ? message : &none;
    json content = json::array();
    if (const auto* text = openai::string_field(*message, "content"); text && !text->empty()) {
        content.push_back({{"type", "text"}, {"text", *text}});
    }
    if (const auto* calls = openai::field(*message, "tool_calls"); calls && calls->is_array()) {
        for (const auto& call : *calls) {
            const json* function = openai::field(call, "function");
            function = function ? function : &none;
            content.push_back(tool_use_block(openai::string_or(call, "id"),
                                             openai::string_or(*function, "name"),
                                             openai::string_or(*function, "arguments", "{}")));
        }
    }
    json stop = matched_stop(*choice);
    auto usage = openai::chat_usage(completion);
    return {{"id", "msg_" + openai::string_or(completion, "id", "aimo")},
            {"type", "message"},
            {"role", "assistant"},
            {"model", model},
            {"content", std::move(content)},
            {"stop_reason",
             stop_reason(openai::string_or(*choice, "finish_reason", "stop"), !stop.is_null())},
            {"stop_sequence", stop},
            {"usage", usage_json(usage)}};
}

json tool_use_block(std::string id, std::string name, std::string_view arguments) {
    json input = json::parse(arguments, nullptr, false);
    return {{"type", "tool_use"},
            {"id", std::move(id)},
            {"name", std::move(name)},
            {"input", input.is_object() ? input : json::object()}};
}

json usage_json(const openai::ChatUsage& usage) {
    return {{"input_tokens", std::max<int64_t>(0, usage.prompt - usage.cached)},
            {"output_tokens", usage.completion},
            {"cache_creation_input_tokens", 0},
            {"cache_read_input_tokens", usage.cached}};
}

std::string error_json(std::string_view type, std::string_view message) {
    return core::json_text(
        json{{"type", "error"}, {"error", {{"type", type}, {"message", message}}}});
}

std::string_view error_type(int status) {
    switch (status) {
    case 401:
        return "authentication_error";
    case 402:
        return "billing_error";
    case 403:
        return "permission_error";
    case 404:
        return "not_found_error";
    case 413:
        return "request_too_large";
    case 429:
        return "rate_limit_error";
    case 503:
    case 529:
        return "overloaded_error";
    default:
        return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
    }
}

int64_t estimate_input_tokens(std::string_view body) {
    json request = reader.parse_object(body);
    messages_of(request); // refuses what /v1/messages would refuse
    int64_t chars = 0;
    for (const char* key : {"system", "messages", "tools"}) {
        if (const auto* found = openai::field(request, key)) {
            chars += count_text(*found);
        }
    }
    return (chars + 3) / 4;
}

} // namespace aimo::anthropic
