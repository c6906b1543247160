#include "anthropic/reverse.hpp"
#include "core/error.hpp"
#include "openai/sse.hpp"

#include <catch2/catch.hpp>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
json messages_of(const json& chat) {
    return json::parse(anthropic::to_messages(chat.dump()).body);
}

std::string refusal(const json& chat) {
    try {
        anthropic::to_messages(chat.dump());
    } catch (const core::Error& e) {
        return e.what();
    }
    return "";
}

std::string event(const json& data) {
    return "event: " + data["type"].get<std::string>() + "\ndata: " + data.dump() + "\n\n";
}

// The data of every chat SSE event in `text`.
std::vector<std::string> chunks_of(const std::string& text) {
    std::vector<std::string> out;
    openai::SseReader reader;
    reader.feed(text);
    std::string one;
    while (reader.next(one)) {
        if (auto data = openai::event_data(one)) {
            out.push_back(*data);
        }
    }
    return out;
}
} // namespace

TEST_CASE("a chat request becomes the Messages request that asks the same", "[anthropic]") {
    json chat = {
        {"model", "claude/claude-x"},
        {"messages",
         {{{"role", "system"}, {"content", "Be brief."}},
          {{"role", "developer"}, {"content", {{{"type", "text"}, {"text", "Use tools."}}}}},
          {{"role", "user"},
           {"content",
            {{{"type", "text"}, {"text", "What is this?"}},
             {{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,AAAA"}}}}}}},
          {{"role", "assistant"},
           {"content", nullptr},
           {"tool_calls",
            {{{"id", "call_1"},
              {"type", "function"},
              {"function", {{"name", "look"}, {"arguments", R"({"x":1})"}}}},
             {{"id", "call_2"},
              {"type", "function"},
              {"function", {{"name", "look"}, {"arguments", "{}"}}}}}}},
          {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "a cat"}},
          {{"role", "tool"}, {"tool_call_id", "call_2"}, {"content", "a hat"}}}},
        {"tools",
         {{{"type", "function"},
           {"function",
            {{"name", "look"}, {"description", "Look."}, {"parameters", {{"type", "object"}}}}}}}},
        {"tool_choice", "required"},
        {"parallel_tool_calls", false},
        {"max_completion_tokens", 300},
        {"temperature", 0.2},
        {"stop", "END"},
        {"user", "u-7"},
        {"stream", true},
        {"stream_options", {{"include_usage", true}}}};
    auto translated = anthropic::to_messages(chat.dump());
    CHECK(translated.stream);
    CHECK(translated.include_usage);
    auto m = json::parse(translated.body);
    CHECK(m["model"] == "claude/claude-x");
    CHECK(m["system"] == "Be brief.\n\nUse tools.");
    CHECK(m["max_tokens"] == 300);
    CHECK(m["temperature"] == 0.2);
    CHECK(m["stop_sequences"] == json{"END"});
    CHECK(m["metadata"]["user_id"] == "u-7");
    CHECK(m["stream"] == true);
    CHECK(m["tool_choice"] == json{{"type", "any"}, {"disable_parallel_tool_use", true}});
    CHECK(m["tools"][0] ==
          json{{"name", "look"}, {"description", "Look."}, {"input_schema", {{"type", "object"}}}});
    REQUIRE(m["messages"].size() == 3);
    CHECK(m["messages"][0]["content"][1] ==
          json{{"type", "image"},
               {"source", {{"type", "base64"}, {"media_type", "image/png"}, {"data", "AAAA"}}}});
    CHECK(m["messages"][1]["content"][0] ==
          json{{"type", "tool_use"}, {"id", "call_1"}, {"name", "look"}, {"input", {{"x", 1}}}});
    // Both results in one user turn, as Anthropic wants them.
    CHECK(m["messages"][2]["role"] == "user");
    CHECK(m["messages"][2]["content"].size() == 2);
    CHECK(m["messages"][2]["content"][1]["tool_use_id"] == "call_2");

    auto bare =
        messages_of({{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}});
    CHECK(bare["max_tokens"] == 4096); // Anthropic needs one
    CHECK_FALSE(bare.contains("system"));
}

TEST_CASE("what Messages cannot ask is refused, naming it", "[anthropic]") {
    json base = {{"model", "m"}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}};
    auto n = base;
    n["n"] = 2;
    CHECK_THAT(refusal(n), Contains("n:"));
    auto format = base;
    format["response_format"] = {{"type", "json_object"}};
    CHECK_THAT(refusal(format), Contains("response_format"));
    auto args = base;
    args["messages"].push_back({{"role", "assistant"},
                                {"tool_calls",
                                 {{{"id", "c"},
                                   {"type", "function"},
                                   {"function", {{"name", "f"}, {"arguments", "[1"}}}}}}});
    CHECK_THAT(refusal(args), Contains("messages[1].tool_calls[0].function.arguments"));
    CHECK_THAT(refusal({{"model", "m"}}), Contains("messages"));
}

TEST_CASE("an Anthropic message becomes a chat completion", "[anthropic]") {
    json message = {
        {"id", "msg_1"},
        {"type", "message"},
        {"content",
         {{{"type", "thinking"}, {"thinking", "hm"}},
          {{"type", "text"}, {"text", "Looking."}},
          {{"type", "tool_use"}, {"id", "tu_1"}, {"name", "look"}, {"input", {{"x", 1}}}}}},
        {"stop_reason", "tool_use"},
        {"usage", {{"input_tokens", 10}, {"cache_read_input_tokens", 30}, {"output_tokens", 4}}}};
    auto chat = anthropic::completion_of(message, "claude/claude-x", 1700000000);
    CHECK(chat["id"] == "msg_1");
    CHECK(chat["model"] == "claude/claude-x");
    const auto& choice = chat["choices"][0];
    CHECK(choice["finish_reason"] == "tool_calls");
    CHECK(choice["message"]["content"] == "Looking.");
    CHECK(choice["message"]["tool_calls"][0]["function"] ==
          json{{"name", "look"}, {"arguments", R"({"x":1})"}});
    CHECK(chat["usage"]["prompt_tokens"] == 40);
    CHECK(chat["usage"]["prompt_tokens_details"]["cached_tokens"] == 30);
    CHECK(chat["usage"]["completion_tokens"] == 4);
    message["stop_reason"] = "max_tokens";
    CHECK(anthropic::completion_of(message, "m", 0)["choices"][0]["finish_reason"] == "length");
    CHECK_THROWS_AS(anthropic::completion_of(json{{"object", "chat.completion"}}, "m", 0),
                    core::Error);
}

TEST_CASE("an Anthropic stream becomes a chat stream, tool calls indexed from 0", "[anthropic]") {
    anthropic::ChatStreamTranslator translator("claude/claude-x", true, 5);
    std::string out;
    for (const json& e : std::vector<json>{
             {{"type", "message_start"},
              {"message",
               {{"id", "msg_s"}, {"usage", {{"input_tokens", 20}, {"output_tokens", 1}}}}}},
             {{"type", "content_block_start"},
              {"index", 0},
              {"content_block", {{"type", "text"}, {"text", ""}}}},
             {{"type", "content_block_delta"},
              {"index", 0},
              {"delta", {{"type", "text_delta"}, {"text", "Hi"}}}},
             {{"type", "content_block_stop"}, {"index", 0}},
             {{"type", "content_block_start"},
              {"index", 1},
              {"content_block", {{"type", "tool_use"}, {"id", "tu_1"}, {"name", "look"}}}},
             {{"type", "content_block_delta"},
              {"index", 1},
              {"delta", {{"type", "input_json_delta"}, {"partial_json", "{\"x\":"}}}},
             {{"type", "content_block_delta"},
              {"index", 1},
              {"delta", {{"type", "input_json_delta"}, {"partial_json", "1}"}}}},
             {{"type", "message_delta"},
              {"delta", {{"stop_reason", "tool_use"}}},
              {"usage", {{"output_tokens", 9}}}},
             {{"type", "message_stop"}}}) {
        out += translator.translate(event(e));
    }
    out += translator.end(); // nothing more after message_stop
    auto chunks = chunks_of(out);
    REQUIRE(chunks.size() == 8);
    auto first = json::parse(chunks[0]);
    CHECK(first["id"] == "msg_s");
    CHECK(first["object"] == "chat.completion.chunk");
    CHECK(first["choices"][0]["delta"]["role"] == "assistant");
    CHECK(json::parse(chunks[1])["choices"][0]["delta"]["content"] == "Hi");
    auto call = json::parse(chunks[2])["choices"][0]["delta"]["tool_calls"][0];
    CHECK(call["index"] == 0);
    CHECK(call["id"] == "tu_1");
    CHECK(call["function"]["name"] == "look");
    CHECK(json::parse(chunks[3])["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] ==
          "{\"x\":");
    CHECK(json::parse(chunks[5])["choices"][0]["finish_reason"] == "tool_calls");
    auto usage = json::parse(chunks[6]);
    CHECK(usage["choices"].empty());
    CHECK(usage["usage"]["prompt_tokens"] == 20);
    CHECK(usage["usage"]["completion_tokens"] == 9);
    CHECK(chunks[7] == "[DONE]");

    anthropic::ChatStreamTranslator cut("m", false, 0);
    cut.translate(event({{"type", "message_start"}, {"message", {{"id", "x"}}}}));
    auto ending = chunks_of(cut.end());
    REQUIRE(ending.size() == 1);
    CHECK(json::parse(ending[0])["error"]["code"] == "upstream_stream_interrupted");
}
