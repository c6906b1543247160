#include "responses/stream.hpp"

#include "core/json.hpp"
#include "openai/chunk.hpp"
#include "openai/sse.hpp"

#include <fmt/format.h>
#include <utility>

namespace aimo::responses {

using nlohmann::json;

void StreamTranslator::emit(const char* type, json data) {
    data["type"] = type;
    data["sequence_number"] = m_sequence++;
    m_out += "event: ";
    m_out += type;
    m_out += "\ndata: ";
    m_out += core::json_text(data);
    m_out += "\n\n";
}

void StreamTranslator::start() {
    m_started = true;
    auto response = response_json(m_answer, m_echo, m_model, false);
    emit("response.created", {{"response", response}});
    emit("response.in_progress", {{"response", std::move(response)}});
}

void StreamTranslator::open_item(Item item) {
    close_item();
    m_answer.items.push_back(std::move(item));
    m_open = static_cast<int>(m_answer.items.size() - 1);
    emit("response.output_item.added",
         {{"output_index", m_open}, {"item", item_json(m_answer, m_open, false)}});
    if (!m_answer.items.back().call) {
        emit("response.content_part.added",
             {{"item_id", item_id(m_answer, m_open)},
              {"output_index", m_open},
              {"content_index", 0},
              {"part", {{"type", "output_text"}, {"text", ""}, {"annotations", json::array()}}}});
    }
}

void StreamTranslator::close_item() {
    if (m_open < 0) {
        return;
    }
    const auto& item = m_answer.items[m_open];
    if (item.call) {
        emit("response.function_call_arguments.done", {{"item_id", item_id(m_answer, m_open)},
                                                       {"output_index", m_open},
                                                       {"arguments", item.arguments}});
    } else {
        auto id = item_id(m_answer, m_open);
        emit("response.output_text.done", {{"item_id", id},
                                           {"output_index", m_open},
                                           {"content_index", 0},
                                           {"text", item.text},
                                           {"logprobs", json::array()}});
        emit("response.content_part.done",
             {{"item_id", id},
              {"output_index", m_open},
              {"content_index", 0},
              {"part",
               {{"type", "output_text"}, {"text", item.text}, {"annotations", json::array()}}}});
    }
    emit("response.output_item.done",
         {{"output_index", m_open}, {"item", item_json(m_answer, m_open, true)}});
    m_open = -1;
}

void StreamTranslator::complete() {
    if (!m_started) {
        start();
    }
    close_item();
    auto response = response_json(m_answer, m_echo, m_model, true);
    bool whole = response["status"] == "completed";
    emit(whole ? "response.completed" : "response.incomplete", {{"response", std::move(response)}});
    m_finished = true;
}

void StreamTranslator::fail(std::string_view code, std::string_view message) {
    emit("error", {{"code", code}, {"message", message}, {"param", nullptr}});
    m_finished = true;
}

std::string StreamTranslator::translate(std::string_view event) {
    if (m_finished) {
        return {};
    }
    auto data = openai::event_data(event);
    if (!data) {
        return std::string(event); // a keep-alive or queued comment
    }
    auto chunk = openai::read_chunk(*data);
    switch (chunk.kind) {
    case openai::Chunk::Kind::done:
        complete(); // [DONE] says the answer is whole, with or without a finish reason
        break;
    case openai::Chunk::Kind::error:
        fail(chunk.error_type, chunk.error_message);
        break;
    case openai::Chunk::Kind::other:
        break;
    case openai::Chunk::Kind::chunk:
        if (!m_started) {
            m_answer.id = chunk.id.empty() ? "aimo" : chunk.id;
            m_answer.created = chunk.created;
            start();
        }
        if (!chunk.content.empty()) {
            if (m_open < 0 || m_answer.items[m_open].call) {
                open_item(Item{});
            }
            m_answer.items[m_open].text += chunk.content;
            emit("response.output_text.delta", {{"item_id", item_id(m_answer, m_open)},
                                                {"output_index", m_open},
                                                {"content_index", 0},
                                                {"delta", chunk.content},
                                                {"logprobs", json::array()}});
        }
        for (auto& tool : chunk.tools) {
            auto call = m_calls.find(tool.index);
            if (call == m_calls.end()) {
                open_item(Item{true, "", tool.id, tool.name, ""});
                call = m_calls.emplace(tool.index, m_open).first;
            }
            if (!tool.arguments.empty()) {
                m_answer.items[call->second].arguments += tool.arguments;
                emit("response.function_call_arguments.delta",
                     {{"item_id", item_id(m_answer, call->second)},
                      {"output_index", call->second},
                      {"delta", tool.arguments}});
            }
        }
        if (!chunk.finish_reason.empty()) {
            close_item();
            m_answer.finish_reason = chunk.finish_reason;
        }
        if (chunk.usage.found) {
            m_answer.usage = chunk.usage;
        }
        break;
    }
    return std::exchange(m_out, {});
}

std::string StreamTranslator::end() {
    if (m_finished) {
        return {};
    }
    if (m_answer.finish_reason.empty()) {
        fail("upstream_error", "the provider's stream ended before its answer was complete");
    } else {
        complete();
    }
    return std::exchange(m_out, {});
}

} // namespace aimo::responses
