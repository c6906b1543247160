#include "openai/completion.hpp"

namespace aimo::openai {

namespace {
using nlohmann::json;

const json* member(const json& object, const char* name) {
    if (!object.is_object()) {
        return nullptr;
    }
    auto it = object.find(name);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::string text_of(const json* value) {
    return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

// Delta fields that are text pieces to join, besides content (providers name reasoning
// differently; each is kept under its own name).
constexpr const char* joined_fields[] = {"reasoning_content", "reasoning", "refusal"};
} // namespace

void StreamAssembler::add(std::string_view data) {
    if (m_broken) {
        return;
    }
    if (data == "[DONE]") {
        m_done = true;
        return;
    }
    json chunk = json::parse(data, nullptr, false);
    if (!chunk.is_object() || chunk.contains("error") || m_done) {
        m_broken = true;
        return;
    }
    if (m_head.is_null()) {
        m_head = json::object();
        for (const char* name : {"id", "created", "model", "system_fingerprint"}) {
            if (const json* value = member(chunk, name)) {
                m_head[name] = *value;
            }
        }
    }
    if (const json* usage = member(chunk, "usage"); usage && usage->is_object()) {
        m_usage = *usage;
    }
    const json* choices = member(chunk, "choices");
    if (choices == nullptr) {
        return;
    }
    if (!choices->is_array()) {
        m_broken = true;
        return;
    }
    for (const auto& piece : *choices) {
        const json* index = member(piece, "index");
        auto& choice = m_choices[index && index->is_number_integer() ? index->get<int64_t>() : 0];
        if (const json* delta = member(piece, "delta")) {
            if (const json* role = member(*delta, "role"); role && role->is_string()) {
                choice.role = role->get<std::string>();
            }
            if (const json* content = member(*delta, "content"); content && content->is_string()) {
                choice.content = choice.content.value_or("") + content->get<std::string>();
            }
            for (const char* name : joined_fields) {
                if (const json* text = member(*delta, name); text && text->is_string()) {
                    choice.text_fields[name] += text->get<std::string>();
                }
            }
            if (const json* calls = member(*delta, "tool_calls"); calls && calls->is_array()) {
                for (const auto& call : *calls) {
                    const json* at = member(call, "index");
                    auto& tool =
                        choice.tool_calls[at && at->is_number_integer()
                                              ? at->get<int64_t>()
                                              : static_cast<int64_t>(choice.tool_calls.size())];
                    tool.id += text_of(member(call, "id"));
                    if (const json* type = member(call, "type"); type && type->is_string()) {
                        tool.type = type->get<std::string>();
                    }
                    if (const json* function = member(call, "function")) {
                        tool.name += text_of(member(*function, "name"));
                        tool.arguments += text_of(member(*function, "arguments"));
                    }
                }
            }
        }
        if (const json* reason = member(piece, "finish_reason"); reason && reason->is_string()) {
            choice.finish_reason = reason->get<std::string>();
        }
    }
}

bool StreamAssembler::complete() const {
    if (!m_done || m_broken || m_choices.empty()) {
        return false;
    }
    for (const auto& [index, choice] : m_choices) {
        if (!choice.finish_reason) {
            return false;
        }
    }
    return true;
}

json StreamAssembler::completion() const {
    json out = json::object();
    out["id"] = m_head.value("id", json("chatcmpl-aimo"));
    out["object"] = "chat.completion";
    out["created"] = m_head.value("created", json(0));
    out["model"] = m_head.value("model", json(""));
    json choices = json::array();
    for (const auto& [index, choice] : m_choices) {
        json message = json::object();
        message["role"] = choice.role;
        message["content"] = choice.content ? json(*choice.content) : json(nullptr);
        for (const auto& [name, text] : choice.text_fields) {
            message[name] = text;
        }
        if (!choice.tool_calls.empty()) {
            json calls = json::array();
            for (const auto& [at, call] : choice.tool_calls) {
                calls.push_back(
                    {{"id", call.id},
                     {"type", call.type},
                     {"function", {{"name", call.name}, {"arguments", call.arguments}}}});
            }
            message["tool_calls"] = std::move(calls);
        }
        choices.push_back({{"index", index},
                           {"message", std::move(message)},
                           {"logprobs", nullptr},
                           {"finish_reason", choice.finish_reason.value_or("stop")}});
    }
    out["choices"] = std::move(choices);
    if (!m_usage.is_null()) {
        out["usage"] = m_usage;
    }
    if (const json* fingerprint = member(m_head, "system_fingerprint")) {
        out["system_fingerprint"] = *fingerprint;
    }
    return out;
}

std::vector<std::string> completion_events(const json& completion, bool include_usage) {
    json head = json::object();
    head["id"] = completion.value("id", json("chatcmpl-aimo"));
    head["object"] = "chat.completion.chunk";
    head["created"] = completion.value("created", json(0));
    head["model"] = completion.value("model", json(""));
    if (const json* fingerprint = member(completion, "system_fingerprint")) {
        head["system_fingerprint"] = *fingerprint;
    }
    std::vector<std::string> events;
    auto emit = [&](int64_t index, json delta, json finish_reason) {
        json chunk = head;
        chunk["choices"] = json::array({{{"index", index},
                                         {"delta", std::move(delta)},
                                         {"logprobs", nullptr},
                                         {"finish_reason", std::move(finish_reason)}}});
        events.push_back(chunk.dump(-1, ' ', false, json::error_handler_t::replace));
    };
    const json* choices = member(completion, "choices");
    if (choices != nullptr && choices->is_array()) {
        for (const auto& choice : *choices) {
            int64_t index = choice.value("index", int64_t(0));
            const json* message = member(choice, "message");
            static const json empty = json::object();
            const json& m = message != nullptr ? *message : empty;
            emit(index, {{"role", m.value("role", std::string("assistant"))}, {"content", ""}},
                 nullptr);
            for (const char* name : joined_fields) {
                if (const json* text = member(m, name); text && text->is_string()) {
                    emit(index, {{name, *text}}, nullptr);
                }
            }
            if (const json* content = member(m, "content");
                content && content->is_string() &&
                !content->get_ref<const std::string&>().empty()) {
                emit(index, {{"content", *content}}, nullptr);
            }
            if (const json* calls = member(m, "tool_calls"); calls && calls->is_array()) {
                int64_t at = 0;
                for (const auto& call : *calls) {
                    const json* function = member(call, "function");
                    emit(
                        index,
                        {{"tool_calls",
                          json::array({{{"index", at},
                                        {"id", call.value("id", std::string())},
                                        {"type", call.value("type", std::string("function"))},
                                        {"function",
                                         {{"name", function ? function->value("name", std::string())
                                                            : std::string()},
                                          {"arguments", ""}}}}})}},
                        nullptr);
                    std::string arguments =
                        function ? function->value("arguments", std::string()) : std::string();
                    if (!arguments.empty()) {
                        emit(index,
                             {{"tool_calls",
                               json::array(
                                   {{{"index", at}, {"function", {{"arguments", arguments}}}}})}},
                             nullptr);
                    }
                    ++at;
                }
            }
            emit(index, json::object(), choice.value("finish_reason", json("stop")));
        }
    }
    if (include_usage) {
        if (const json* usage = member(completion, "usage")) {
            json chunk = head;
            chunk["choices"] = json::array();
            chunk["usage"] = *usage;
            events.push_back(chunk.dump(-1, ' ', false, json::error_handler_t::replace));
        }
    }
    events.emplace_back("[DONE]");
    return events;
}

bool finished_naturally(const json& completion, bool length_ok) {
    const json* choices = member(completion, "choices");
    if (choices == nullptr || !choices->is_array() || choices->empty()) {
        return false;
    }
    for (const auto& choice : *choices) {
        std::string reason = text_of(member(choice, "finish_reason"));
        bool natural = reason == "stop" || reason == "tool_calls" || reason == "function_call" ||
                       (length_ok && reason == "length");
        if (!natural || !member(choice, "message")) {
            return false;
        }
    }
    return true;
}

} // namespace aimo::openai
