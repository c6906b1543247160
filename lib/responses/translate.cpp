#include "responses/translate.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "openai/request_reader.hpp"

#include <fmt/format.h>

namespace aimo::responses {

using nlohmann::json;

namespace {
constexpr const char* hint =
    "see https://platform.openai.com/docs/api-reference/responses for the request shape";

const openai::RequestReader reader{hint};

// A message item's content as chat content: one string for text, parts when images are in it.
json content_of(const json& content, const std::string& where) {
    if (content.is_string()) {
        return content;
    }
    if (!content.is_array()) {
        reader.refuse(where + ": a string or an array of content parts is required");
    }
    json parts = json::array();
    std::string text;
    bool only_text = true;
    for (size_t i = 0; i < content.size(); ++i) {
        const auto& part = content[i];
        std::string at = fmt::format("{}[{}]", where, i);
        auto type = openai::string_or(part, "type");
        if (type == "input_text" || type == "output_text" || type == "text") {
            const auto& piece = reader.string_at(part, "text", at);
            parts.push_back({{"type", "text"}, {"text", piece}});
            text += text.empty() ? "" : "\n";
            text += piece;
        } else if (type == "refusal") {
            parts.push_back({{"type", "text"}, {"text", reader.string_at(part, "refusal", at)}});
            text += reader.string_at(part, "refusal", at);
        } else if (type == "input_image") {
            const auto* url = openai::string_field(part, "image_url");
            if (url == nullptr) {
                reader.refuse(at +
                              ": only images given by image_url can be translated (aimo keeps no "
                              "files)");
            }
            json image = {{"url", *url}};
            if (const auto* detail = openai::string_field(part, "detail")) {
                image["detail"] = *detail;
            }
            parts.push_back({{"type", "image_url"}, {"image_url", std::move(image)}});
            only_text = false;
        } else {
            reader.refuse(
                fmt::format("{}: a '{}' part cannot be translated to chat completions", at, type));
        }
    }
    return only_text ? json(text) : parts;
}

json messages_of(const json& request) {
    json out = json::array();
    if (const auto* instructions = openai::string_field(request, "instructions")) {
        out.push_back({{"role", "system"}, {"content", *instructions}});
    }
    const json* input = openai::field(request, "input");
    if (input == nullptr) {
        reader.refuse("input: a string or an array of items is required");
    }
    if (input->is_string()) {
        out.push_back({{"role", "user"}, {"content", *input}});
        return out;
    }
    if (!input->is_array()) {
        reader.refuse("input: a string or an array of items is required");
    }
    for (size_t i = 0; i < input->size(); ++i) {
        const auto& item = (*input)[i];
        std::string at = fmt::format("input[{}]", i);
        if (!item.is_object()) {
            reader.refuse(at + ": an item must be an object");
        }
        auto type = openai::string_or(item, "type", "message");
        if (type == "message") {
            auto role = reader.string_at(item, "role", at);
            if (role == "developer") {
                role = "system"; // chat upstreams beyond OpenAI know only system
            } else if (role != "user" && role != "assistant" && role != "system") {
                reader.refuse(fmt::format(
                    "{}.role '{}' is not one of user, assistant, system, developer", at, role));
            }
            const json* content = openai::field(item, "content");
            if (content == nullptr) {
                reader.refuse(at + ".content: a string or an array of content parts is required");
            }
            out.push_back({{"role", role}, {"content", content_of(*content, at + ".content")}});
        } else if (type == "function_call") {
            json call = {{"id", reader.string_at(item, "call_id", at)},
                         {"type", "function"},
                         {"function",
                          {{"name", reader.string_at(item, "name", at)},
                           {"arguments", openai::string_or(item, "arguments", "{}")}}}};
            // Calls made in one turn are one assistant message in chat.
            if (!out.empty() && out.back()["role"] == "assistant") {
                out.back()["tool_calls"].push_back(std::move(call));
            } else {
                out.push_back({{"role", "assistant"},
                               {"content", nullptr},
                               {"tool_calls", json::array({std::move(call)})}});
            }
        } else if (type == "function_call_output") {
            const json* output = openai::field(item, "output");
            json text = output == nullptr ? json("") : content_of(*output, at + ".output");
            out.push_back({{"role", "tool"},
                           {"tool_call_id", reader.string_at(item, "call_id", at)},
                           {"content", text.is_string() ? text : json(core::json_text(text))}});
        } else if (type == "item_reference") {
            reader.refuse(at + ": aimo keeps no responses, so it cannot look up item references",
                          "send the items themselves in input");
        } else if (type != "reasoning") {
            reader.refuse(
                fmt::format("{}: a '{}' item cannot be translated to chat completions", at, type));
        }
    }
    return out;
}

json function_tool(const json& tool, const std::string& at) {
    json function = {{"name", reader.string_at(tool, "name", at)}};
    for (const char* key : {"description", "parameters", "strict"}) {
        if (const auto* found = openai::field(tool, key); found && !found->is_null()) {
            function[key] = *found;
        }
    }
    return {{"type", "function"}, {"function", std::move(function)}};
}

// Function tools as chat tools, those of a namespace among them; every other tool (web_search,
// file_search, custom grammars, …) runs inside OpenAI's service or needs its items, so a chat
// upstream cannot offer it: it is left out and its type noted in `dropped`.
json tools_of(const json& tools, std::vector<std::string>& dropped) {
    if (!tools.is_array()) {
        reader.refuse("tools: an array is required");
    }
    json out = json::array();
    for (size_t i = 0; i < tools.size(); ++i) {
        const auto& tool = tools[i];
        std::string at = fmt::format("tools[{}]", i);
        auto type = openai::string_or(tool, "type");
        if (type == "function") {
            out.push_back(function_tool(tool, at));
        } else if (const auto* inner = openai::field(tool, "tools");
                   type == "namespace" && inner && inner->is_array()) {
            for (size_t j = 0; j < inner->size(); ++j) {
                if (openai::string_or((*inner)[j], "type") == "function") {
                    out.push_back(function_tool((*inner)[j], fmt::format("{}.tools[{}]", at, j)));
                }
            }
        } else {
            dropped.push_back(type.empty() ? "untyped" : type);
        }
    }
    return out;
}

json tool_choice_of(const json& choice) {
    if (choice.is_string()) {
        return choice;
    }
    if (openai::string_or(choice, "type") == "function") {
        return {{"type", "function"},
                {"function", {{"name", reader.string_at(choice, "name", "tool_choice")}}}};
    }
    reader.refuse(
        "tool_choice: auto, none, required or {\"type\":\"function\",\"name\":…} is required");
}

json response_format_of(const json& text) {
    const json* format = openai::field(text, "format");
    if (format == nullptr) {
        return nullptr;
    }
    auto type = openai::string_or(*format, "type");
    if (type == "text") {
        return nullptr;
    }
    if (type == "json_object") {
        return {{"type", "json_object"}};
    }
    if (type == "json_schema") {
        json schema = {{"name", reader.string_at(*format, "name", "text.format")}};
        for (const char* key : {"schema", "strict", "description"}) {
            if (const auto* found = openai::field(*format, key); found && !found->is_null()) {
                schema[key] = *found;
            }
        }
        return {{"type", "json_schema"}, {"json_schema", std::move(schema)}};
    }
    reader.refuse(
        fmt::format("text.format.type '{}' is not one of text, json_object, json_schema", type));
}
} // namespace

ChatRequest to_chat(std::string_view body) {
    json request = reader.parse_object(body);
    if (const auto* previous = openai::field(request, "previous_response_id");
        previous && !previous->is_null()) {
        reader.refuse("previous_response_id: aimo keeps no responses, so it cannot continue one",
                      "send the whole conversation in input (as Codex and stateless clients do)");
    }
    ChatRequest out;
    out.model = reader.string_at(request, "model", "request");
    json chat = {{"model", out.model}, {"messages", messages_of(request)}};
    if (const auto* limit = openai::field(request, "max_output_tokens");
        limit && !limit->is_null()) {
        if (!limit->is_number_integer() || *limit < 1) {
            reader.refuse("max_output_tokens: a positive integer is required");
        }
        chat["max_tokens"] = *limit;
    }
    reader.copy_numbers(request, chat, {"temperature", "top_p"});
    if (const auto* tools = openai::field(request, "tools"); tools && !tools->empty()) {
        if (json translated = tools_of(*tools, out.dropped_tools); !translated.empty()) {
            chat["tools"] = std::move(translated);
        }
    }
    if (const auto* choice = openai::field(request, "tool_choice"); choice && !choice->is_null()) {
        chat["tool_choice"] = tool_choice_of(*choice);
    }
    if (const auto* parallel = openai::field(request, "parallel_tool_calls");
        parallel && parallel->is_boolean()) {
        chat["parallel_tool_calls"] = *parallel;
    }
    if (const auto* user = openai::string_field(request, "user")) {
        chat["user"] = *user;
    }
    if (const auto* text = openai::field(request, "text")) {
        if (json format = response_format_of(*text); !format.is_null()) {
            chat["response_format"] = std::move(format);
        }
    }
    out.stream = reader.stream_flag(request);
    if (out.stream) {
        chat["stream"] = true;
        chat["stream_options"] = {{"include_usage", true}};
    }
    for (const char* key : {"instructions", "tools", "tool_choice", "temperature", "top_p",
                            "max_output_tokens", "parallel_tool_calls", "text", "metadata"}) {
        if (const auto* found = openai::field(request, key)) {
            out.echo[key] = *found;
        }
    }
    out.body = core::json_text(chat);
    return out;
}

Answer answer_of(const nlohmann::json& completion) {
    const json* choice = openai::first_choice(completion);
    if (choice == nullptr) {
        throw core::Error(core::ErrorKind::upstream_protocol,
                          "the provider's answer is not a chat completion",
                          "check the provider's base_url points at an OpenAI-compatible API");
    }
    Answer answer;
    answer.id = openai::string_or(completion, "id", "aimo");
    answer.created = openai::int_field(completion, "created");
    answer.finish_reason = openai::string_or(*choice, "finish_reason", "stop");
    answer.usage = openai::chat_usage(completion);
    static const json none = json::object();
    const json* message = openai::field(*choice, "message");
    message = message ? message : &none;
    if (const auto* text = openai::string_field(*message, "content"); text && !text->empty()) {
        answer.items.push_back({false, *text, "", "", ""});
    }
    if (const auto* calls = openai::field(*message, "tool_calls"); calls && calls->is_array()) {
        for (const auto& call : *calls) {
            const json* function = openai::field(call, "function");
            function = function ? function : &none;
            answer.items.push_back({true, "", openai::string_or(call, "id"),
                                    openai::string_or(*function, "name"),
                                    openai::string_or(*function, "arguments", "{}")});
        }
    }
    return answer;
}

std::string item_id(const Answer& answer, size_t index) {
    return fmt::format("{}_{}_{}", answer.items[index].call ? "fc" : "msg", answer.id, index);
}

nlohmann::json item_json(const Answer& answer, size_t index, bool done) {
    const auto& item = answer.items[index];
    std::string status = done ? "completed" : "in_progress";
    if (item.call) {
        return {{"type", "function_call"},
                {"id", item_id(answer, index)},
                {"call_id", item.call_id},
                {"name", item.name},
                {"arguments", done ? item.arguments : ""},
                {"status", status}};
    }
    json content = json::array();
    if (done) {
        content.push_back(
            {{"type", "output_text"}, {"text", item.text}, {"annotations", json::array()}});
    }
    return {{"type", "message"},
            {"id", item_id(answer, index)},
            {"role", "assistant"},
            {"status", status},
            {"content", std::move(content)}};
}

nlohmann::json response_json(const Answer& answer, const nlohmann::json& echo,
                             std::string_view model, bool done) {
    json response = {{"id", "resp_" + answer.id},
                     {"object", "response"},
                     {"created_at", answer.created},
                     {"model", model},
                     {"status", "in_progress"},
                     {"error", nullptr},
                     {"incomplete_details", nullptr},
                     {"previous_response_id", nullptr},
                     {"store", false},
                     {"output", json::array()},
                     {"usage", nullptr}};
    for (const char* key : {"instructions", "tools", "tool_choice", "temperature", "top_p",
                            "max_output_tokens", "parallel_tool_calls", "text", "metadata"}) {
        if (const auto* found = openai::field(echo, key)) {
            response[key] = *found;
        } else {
            response[key] = nullptr;
        }
    }
    if (!response["tools"].is_array()) {
        response["tools"] = json::array();
    }
    if (!done) {
        return response;
    }
    if (answer.finish_reason == "length") {
        response["status"] = "incomplete";
        response["incomplete_details"] = {{"reason", "max_output_tokens"}};
    } else if (answer.finish_reason == "content_filter") {
        response["status"] = "incomplete";
        response["incomplete_details"] = {{"reason", "content_filter"}};
    } else {
        response["status"] = "completed";
    }
    for (size_t i = 0; i < answer.items.size(); ++i) {
        response["output"].push_back(item_json(answer, i, true));
    }
    const auto& usage = answer.usage;
    response["usage"] = {{"input_tokens", usage.prompt},
                         {"input_tokens_details", {{"cached_tokens", usage.cached}}},
                         {"output_tokens", usage.completion},
                         {"output_tokens_details", {{"reasoning_tokens", 0}}},
                         {"total_tokens", usage.prompt + usage.completion}};
    return response;
}

} // namespace aimo::responses
