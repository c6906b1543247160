#include "anthropic/messages.hpp"
#include "anthropic/stream.hpp"
#include "core/error.hpp"
#include "openai/sse.hpp"

#include <catch2/catch.hpp>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
json chat_of(const json& request) {
    return json::parse(anthropic::to_chat(request.dump()).body);
}

std::string refusal(const json& request) {
    try {
        anthropic::to_chat(request.dump());
    } catch (const core::Error& e) {
        CHECK(e.kind() == core::ErrorKind::invalid_input);
        return e.what();
    }
    return "";
}

std::string chunk(const json& delta, const json& finish = nullptr) {
    return openai::data_event(
        json{{"id", "c1"},
             {"object", "chat.completion.chunk"},
             {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}}
            .dump());
}

// The events a translated stream produced: each event's name and data.
std::vector<std::pair<std::string, json>> events_of(const std::string& text) {
    std::vector<std::pair<std::string, json>> out;
    openai::SseReader reader;
    reader.feed(text);
    std::string event;
    while (reader.next(event)) {
        auto name = event.substr(7, event.find('\n') - 7);
        auto data = openai::event_data(event);
        REQUIRE(data);
        out.emplace_back(name, json::parse(*data));
    }
    return out;
}
} // namespace

TEST_CASE("a Messages request becomes the chat completion that asks the same", "[anthropic]") {
    json request = {
        {"model", "claude-sonnet-4"},
        {"max_tokens", 1024},
        {"system",
         {{{"type", "text"},
           {"text", "You are terse."},
           {"cache_control", {{"type", "ephemeral"}}}},
          {{"type", "text"}, {"text", "Answer in French."}}}},
        {"messages",
         {{{"role", "user"},
           {"content",
            {{{"type", "text"}, {"text", "What is in this picture?"}},
             {{"type", "image"},
              {"source", {{"type", "base64"}, {"media_type", "image/png"}, {"data", "AAAA"}}}}}}},
          {{"role", "assistant"},
           {"content",
            {{{"type", "thinking"}, {"thinking", "hmm"}, {"signature", "x"}},
             {{"type", "text"}, {"text", "Let me look."}},
             {{"type", "tool_use"},
              {"id", "toolu_1"},
              {"name", "zoom"},
              {"input", {{"factor", 2}}}}}}},
          {{"role", "user"},
           {"content",
            {{{"type", "tool_result"}, {"tool_use_id", "toolu_1"}, {"content", "a cat"}},
             {{"type", "text"}, {"text", "And now?"}}}}}}},
        {"tools",
         {{{"name", "zoom"}, {"description", "Zooms in"}, {"input_schema", {{"type", "object"}}}}}},
        {"tool_choice", {{"type", "any"}, {"disable_parallel_tool_use", true}}},
        {"temperature", 0.5},
        {"top_p", 0.9},
        {"top_k", 5},
        {"stop_sequences", {"END"}},
        {"metadata", {{"user_id", "u-1"}}},
        {"thinking", {{"type", "enabled"}, {"budget_tokens", 2000}}}};
    json chat = chat_of(request);
    CHECK(chat["model"] == "claude-sonnet-4");
    CHECK(chat["max_tokens"] == 1024);
    CHECK(chat["temperature"] == 0.5);
    CHECK(chat["top_p"] == 0.9);
    CHECK(chat["stop"] == json{"END"});
    CHECK(chat["user"] == "u-1");
    CHECK(chat["tool_choice"] == "required");
    CHECK(chat["parallel_tool_calls"] == false);
    CHECK_FALSE(chat.contains("top_k"));
    CHECK_FALSE(chat.contains("thinking"));
    CHECK_FALSE(chat.contains("stream"));
    CHECK(chat["tools"][0] == json{{"type", "function"},
                                   {"function",
                                    {{"name", "zoom"},
                                     {"description", "Zooms in"},
                                     {"parameters", {{"type", "object"}}}}}});
    const auto& messages = chat["messages"];
    REQUIRE(messages.size() == 5);
    CHECK(messages[0] ==
          json{{"role", "system"}, {"content", "You are terse.\n\nAnswer in French."}});
    CHECK(messages[1]["content"][1]["image_url"]["url"] == "data:image/png;base64,AAAA");
    CHECK(messages[2]["content"] == "Let me look.");
    CHECK(messages[2]["tool_calls"][0]["id"] == "toolu_1");
    CHECK(json::parse(messages[2]["tool_calls"][0]["function"]["arguments"].get<std::string>()) ==
          json{{"factor", 2}});
    CHECK(messages[3] == json{{"role", "tool"}, {"tool_call_id", "toolu_1"}, {"content", "a cat"}});
    CHECK(messages[4] == json{{"role", "user"}, {"content", "And now?"}});
}

TEST_CASE("a streamed Messages request asks for the stream's usage", "[anthropic]") {
    auto chat = anthropic::to_chat(
        R"({"model":"m","max_tokens":5,"stream":true,"messages":[{"role":"user","content":"hi"}]})");
    CHECK(chat.stream);
    json body = json::parse(chat.body);
    CHECK(body["stream"] == true);
    CHECK(body["stream_options"]["include_usage"] == true);
}

TEST_CASE("a system message between turns (as Claude Code sends) stays a system message",
          "[anthropic]") {
    auto chat = chat_of(
        {{"model", "m"},
         {"max_tokens", 5},
         {"messages",
          {{{"role", "user"}, {"content", "hi"}},
           {{"role", "system"}, {"content", {{{"type", "text"}, {"text", "<reminder>"}}}}}}}});
    REQUIRE(chat["messages"].size() == 2);
    CHECK(chat["messages"][1] == json{{"role", "system"}, {"content", "<reminder>"}});
}

TEST_CASE("what has no chat equivalent is refused with what to change", "[anthropic]") {
    json base = {
        {"model", "m"}, {"max_tokens", 5}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
    auto without = base;
    without.erase("max_tokens");
    CHECK_THAT(refusal(without), Contains("max_tokens"));
    auto server_tool = base;
    server_tool["tools"] = {{{"type", "web_search_20250305"}, {"name", "web_search"}}};
    CHECK_THAT(refusal(server_tool), Contains("web_search_20250305"));
    auto document = base;
    document["messages"][0]["content"] = {{{"type", "document"}, {"source", json::object()}}};
    CHECK_THAT(refusal(document), Contains("'document' block"));
    auto role = base;
    role["messages"][0]["role"] = "tool";
    CHECK_THAT(refusal(role), Contains("messages[0].role"));
    auto typed = base;
    typed["messages"][0]["content"] = {{{"type", 7}}};
    CHECK_FALSE(refusal(typed).empty()); // a number where a string belongs: refused, no throw
    CHECK_THAT(refusal(json::array()), Contains("JSON object"));
    std::string deep(5000, '[');
    CHECK_THROWS_AS(anthropic::to_chat(deep), core::Error);
}

TEST_CASE("a chat completion becomes a message with its stop reason and usage", "[anthropic]") {
    json completion = {
        {"id", "chatcmpl-9"},
        {"choices",
         {{{"index", 0},
           {"message",
            {{"role", "assistant"},
             {"content", "Checking."},
             {"tool_calls",
              {{{"id", "call_1"},
                {"type", "function"},
                {"function", {{"name", "zoom"}, {"arguments", "{\"factor\":3}"}}}}}}}},
           {"finish_reason", "tool_calls"}}}},
        {"usage",
         {{"prompt_tokens", 40},
          {"completion_tokens", 7},
          {"prompt_tokens_details", {{"cached_tokens", 10}}}}}};
    json message = anthropic::from_chat(completion, "claude-x");
    CHECK(message["id"] == "msg_chatcmpl-9");
    CHECK(message["type"] == "message");
    CHECK(message["model"] == "claude-x");
    CHECK(message["stop_reason"] == "tool_use");
    CHECK(message["content"][0] == json{{"type", "text"}, {"text", "Checking."}});
    CHECK(
        message["content"][1] ==
        json{{"type", "tool_use"}, {"id", "call_1"}, {"name", "zoom"}, {"input", {{"factor", 3}}}});
    CHECK(message["usage"]["input_tokens"] == 30);
    CHECK(message["usage"]["cache_read_input_tokens"] == 10);
    CHECK(message["usage"]["output_tokens"] == 7);

    completion["choices"][0]["finish_reason"] = "length";
    CHECK(anthropic::from_chat(completion, "m")["stop_reason"] == "max_tokens");
    completion["choices"][0]["finish_reason"] = "stop";
    CHECK(anthropic::from_chat(completion, "m")["stop_reason"] == "end_turn");
    completion["choices"][0]["stop_reason"] = "END";
    CHECK(anthropic::from_chat(completion, "m")["stop_reason"] == "stop_sequence");
    CHECK(anthropic::from_chat(completion, "m")["stop_sequence"] == "END");
    CHECK_THROWS_AS(anthropic::from_chat(json{{"choices", 3}}, "m"), core::Error);
}

TEST_CASE("a chat stream becomes Messages events with blocks in order", "[anthropic]") {
    anthropic::StreamTranslator translate("claude-x");
    std::string out = translate.translate(": queued\n\n");
    out += translate.translate(chunk({{"role", "assistant"}, {"content", ""}}));
    out += translate.translate(chunk({{"content", "Let me "}}));
    out += translate.translate(chunk({{"content", "check."}}));
    out += translate.translate(chunk({{"tool_calls",
                                       {{{"index", 0},
                                         {"id", "call_a"},
                                         {"type", "function"},
                                         {"function", {{"name", "zoom"}, {"arguments", ""}}}}}}}));
    out += translate.translate(
        chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", "{\"factor\""}}}}}}}));
    out += translate.translate(
        chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", ":2}"}}}}}}}));
    out += translate.translate(chunk(json::object(), "tool_calls"));
    out += translate.translate(openai::data_event(
        R"({"id":"c1","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":5}})"));
    out += translate.translate("data: [DONE]\n\n");
    out += translate.end();
    CHECK(translate.finished());

    auto events = events_of(out);
    std::vector<std::string> names;
    for (const auto& [name, data] : events) {
        names.push_back(name);
        CHECK(data["type"] == name);
    }
    CHECK(names == std::vector<std::string>{"ping", "message_start", "content_block_start",
                                            "content_block_delta", "content_block_delta",
                                            "content_block_stop", "content_block_start",
                                            "content_block_delta", "content_block_delta",
                                            "content_block_stop", "message_delta", "message_stop"});
    CHECK(events[1].second["message"]["model"] == "claude-x");
    CHECK(events[2].second["index"] == 0);
    CHECK(events[3].second["delta"] == json{{"type", "text_delta"}, {"text", "Let me "}});
    CHECK(events[6].second["index"] == 1);
    CHECK(events[6].second["content_block"]["id"] == "call_a");
    CHECK(events[6].second["content_block"]["name"] == "zoom");
    CHECK(events[7].second["delta"] ==
          json{{"type", "input_json_delta"}, {"partial_json", "{\"factor\""}});
    CHECK(events[8].second["index"] == 1);
    CHECK(events[10].second["delta"]["stop_reason"] == "tool_use");
    CHECK(events[10].second["usage"]["output_tokens"] == 5);
    CHECK(events[10].second["usage"]["input_tokens"] == 12);
}

TEST_CASE("a chat stream's error or early end becomes a Messages error event", "[anthropic]") {
    anthropic::StreamTranslator failed("m");
    auto out = failed.translate(
        openai::data_event(R"({"error":{"message":"slow down","type":"rate_limit_error"}})"));
    auto events = events_of(out);
    REQUIRE(events.size() == 1);
    CHECK(events[0].first == "error");
    CHECK(events[0].second["error"] ==
          json{{"type", "rate_limit_error"}, {"message", "slow down"}});
    CHECK(failed.end().empty());

    anthropic::StreamTranslator cut("m");
    cut.translate(chunk({{"content", "half"}}));
    events = events_of(cut.end());
    REQUIRE_FALSE(events.empty());
    CHECK(events.back().first == "error");
    CHECK_THAT(events.back().second["error"]["message"].get<std::string>(),
               Contains("before its answer was complete"));
}

TEST_CASE("count_tokens estimates a quarter of the characters, images at 1,600", "[anthropic]") {
    json request = {{"model", "m"},
                    {"system", std::string(40, 's')},
                    {"messages", {{{"role", "user"}, {"content", std::string(80, 'u')}}}}};
    CHECK(anthropic::estimate_input_tokens(request.dump()) == 30);
    request["messages"][0]["content"] = {
        {{"type", "image"},
         {"source", {{"type", "base64"}, {"media_type", "image/png"}, {"data", "AAAA"}}}}};
    CHECK(anthropic::estimate_input_tokens(request.dump()) == 10 + 1600);
}
