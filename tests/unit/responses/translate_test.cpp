#include "core/error.hpp"
#include "openai/sse.hpp"
#include "responses/stream.hpp"
#include "responses/translate.hpp"

#include <catch2/catch.hpp>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
std::string refusal(const json& request) {
    try {
        responses::to_chat(request.dump());
    } catch (const core::Error& e) {
        return std::string(e.what()) + " / " + e.hint();
    }
    return "";
}

std::string chunk(const json& delta, const json& finish = nullptr) {
    return openai::data_event(
        json{{"id", "c7"},
             {"created", 1700000000},
             {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}}
            .dump());
}

std::vector<json> events_of(const std::string& text) {
    std::vector<json> out;
    openai::SseReader reader;
    reader.feed(text);
    std::string event;
    while (reader.next(event)) {
        auto data = openai::event_data(event);
        if (!data) {
            continue; // a comment, passed through
        }
        auto parsed = json::parse(*data);
        CHECK(event.rfind("event: " + parsed["type"].get<std::string>() + "\n", 0) == 0);
        out.push_back(std::move(parsed));
    }
    return out;
}
} // namespace

TEST_CASE("a Responses request becomes the chat completion that asks the same", "[responses]") {
    json request = {
        {"model", "gpt-x"},
        {"instructions", "Be brief."},
        {"input",
         {{{"role", "developer"}, {"content", "Use metric units."}},
          {{"type", "message"},
           {"role", "user"},
           {"content",
            {{{"type", "input_text"}, {"text", "Weather?"}},
             {{"type", "input_image"}, {"image_url", "https://x/y.png"}}}}},
          {{"type", "reasoning"}, {"id", "rs_1"}, {"summary", json::array()}},
          {{"type", "function_call"},
           {"call_id", "call_1"},
           {"name", "weather"},
           {"arguments", "{\"city\":\"Oslo\"}"}},
          {{"type", "function_call"}, {"call_id", "call_2"}, {"name", "time"}, {"arguments", "{}"}},
          {{"type", "function_call_output"}, {"call_id", "call_1"}, {"output", "3 C"}},
          {{"type", "function_call_output"}, {"call_id", "call_2"}, {"output", "noon"}}}},
        {"tools",
         {{{"type", "function"},
           {"name", "weather"},
           {"description", "Weather now"},
           {"parameters", {{"type", "object"}}},
           {"strict", true}}}},
        {"tool_choice", {{"type", "function"}, {"name", "weather"}}},
        {"max_output_tokens", 300},
        {"temperature", 0.2},
        {"parallel_tool_calls", false},
        {"store", false},
        {"text",
         {{"format",
           {{"type", "json_schema"},
            {"name", "w"},
            {"schema", {{"type", "object"}}},
            {"strict", true}}}}}};
    auto translated = responses::to_chat(request.dump());
    CHECK_FALSE(translated.stream);
    json chat = json::parse(translated.body);
    CHECK(chat["model"] == "gpt-x");
    CHECK(chat["max_tokens"] == 300);
    CHECK(chat["temperature"] == 0.2);
    CHECK(chat["parallel_tool_calls"] == false);
    CHECK(chat["tool_choice"] == json{{"type", "function"}, {"function", {{"name", "weather"}}}});
    CHECK(chat["tools"][0]["function"]["parameters"] == json{{"type", "object"}});
    CHECK(chat["tools"][0]["function"]["strict"] == true);
    CHECK(chat["response_format"]["type"] == "json_schema");
    CHECK(chat["response_format"]["json_schema"]["name"] == "w");
    CHECK_FALSE(chat.contains("store"));
    const auto& messages = chat["messages"];
    REQUIRE(messages.size() == 6);
    CHECK(messages[0] == json{{"role", "system"}, {"content", "Be brief."}});
    CHECK(messages[1] == json{{"role", "system"}, {"content", "Use metric units."}});
    CHECK(messages[2]["content"][1]["image_url"]["url"] == "https://x/y.png");
    CHECK(messages[3]["role"] == "assistant");
    REQUIRE(messages[3]["tool_calls"].size() == 2); // one turn's calls, one message
    CHECK(messages[3]["tool_calls"][1]["function"]["name"] == "time");
    CHECK(messages[4] == json{{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "3 C"}});
    CHECK(translated.echo["instructions"] == "Be brief.");
    CHECK(translated.echo["max_output_tokens"] == 300);

    auto plain = responses::to_chat(R"({"model":"m","input":"hi","stream":true})");
    CHECK(plain.stream);
    CHECK(json::parse(plain.body)["messages"] == json{{{"role", "user"}, {"content", "hi"}}});
    CHECK(json::parse(plain.body)["stream_options"]["include_usage"] == true);
}

TEST_CASE("state aimo does not keep is refused", "[responses]") {
    json base = {{"model", "m"}, {"input", "hi"}};
    auto previous = base;
    previous["previous_response_id"] = "resp_1";
    CHECK_THAT(refusal(previous), Contains("aimo keeps no responses"));
    auto reference = base;
    reference["input"] = {{{"type", "item_reference"}, {"id", "msg_1"}}};
    CHECK_THAT(refusal(reference), Contains("item references"));
    auto missing = base;
    missing.erase("input");
    CHECK_THAT(refusal(missing), Contains("input"));
    auto file = base;
    file["input"] = {{{"role", "user"}, {"content", {{{"type", "input_file"}, {"file_id", "f"}}}}}};
    CHECK_THAT(refusal(file), Contains("'input_file'"));
}

TEST_CASE("a namespace's functions are offered, tools only OpenAI can run are left out and named",
          "[responses]") {
    // What Codex sends: functions, a namespace of functions, and the hosted web_search.
    json request = {
        {"model", "m"},
        {"input", "hi"},
        {"tools",
         {{{"type", "function"}, {"name", "exec_command"}, {"parameters", json::object()}},
          {{"type", "namespace"},
           {"name", "multi_agent_v1"},
           {"tools", {{{"type", "function"}, {"name", "spawn_agent"}}}}},
          {{"type", "web_search"}, {"external_web_access", false}},
          {{"type", "custom"}, {"name", "apply_patch"}}}}};
    auto chat = responses::to_chat(request.dump());
    auto tools = json::parse(chat.body)["tools"];
    REQUIRE(tools.size() == 2);
    CHECK(tools[0]["function"]["name"] == "exec_command");
    CHECK(tools[1]["function"]["name"] == "spawn_agent");
    CHECK(chat.dropped_tools == std::vector<std::string>{"web_search", "custom"});

    request["tools"] = {{{"type", "web_search"}}};
    CHECK_FALSE(json::parse(responses::to_chat(request.dump()).body).contains("tools"));
}

TEST_CASE("a chat completion becomes a response with its items and usage", "[responses]") {
    json completion = {
        {"id", "c9"},
        {"created", 42},
        {"choices",
         {{{"index", 0},
           {"message",
            {{"role", "assistant"},
             {"content", "Calling."},
             {"tool_calls",
              {{{"id", "call_1"},
                {"type", "function"},
                {"function", {{"name", "weather"}, {"arguments", "{\"city\":\"Oslo\"}"}}}}}}}},
           {"finish_reason", "tool_calls"}}}},
        {"usage", {{"prompt_tokens", 20}, {"completion_tokens", 6}}}};
    json response = responses::response_json(responses::answer_of(completion),
                                             json{{"instructions", "Be brief."}}, "gpt-x", true);
    CHECK(response["id"] == "resp_c9");
    CHECK(response["object"] == "response");
    CHECK(response["status"] == "completed");
    CHECK(response["model"] == "gpt-x");
    CHECK(response["instructions"] == "Be brief.");
    REQUIRE(response["output"].size() == 2);
    CHECK(response["output"][0]["type"] == "message");
    CHECK(response["output"][0]["content"][0]["text"] == "Calling.");
    CHECK(response["output"][1] == json{{"type", "function_call"},
                                        {"id", "fc_c9_1"},
                                        {"call_id", "call_1"},
                                        {"name", "weather"},
                                        {"arguments", "{\"city\":\"Oslo\"}"},
                                        {"status", "completed"}});
    CHECK(response["usage"]["input_tokens"] == 20);
    CHECK(response["usage"]["output_tokens"] == 6);
    CHECK(response["usage"]["total_tokens"] == 26);

    completion["choices"][0]["finish_reason"] = "length";
    auto cut = responses::response_json(responses::answer_of(completion), {}, "m", true);
    CHECK(cut["status"] == "incomplete");
    CHECK(cut["incomplete_details"]["reason"] == "max_output_tokens");
}

TEST_CASE("a chat stream becomes Responses events, numbered, items in order", "[responses]") {
    responses::StreamTranslator translate("gpt-x", json::object());
    std::string out = translate.translate(chunk({{"role", "assistant"}}));
    out += translate.translate(": keep-alive\n\n");
    out += translate.translate(chunk({{"content", "Hel"}}));
    out += translate.translate(chunk({{"content", "lo"}}));
    out += translate.translate(
        chunk({{"tool_calls",
                {{{"index", 0},
                  {"id", "call_z"},
                  {"function", {{"name", "weather"}, {"arguments", "{\"c\":"}}}}}}}));
    out += translate.translate(
        chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", "1}"}}}}}}}));
    out += translate.translate(chunk(json::object(), "tool_calls"));
    out += translate.translate(openai::data_event(
        R"({"id":"c7","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4}})"));
    out += translate.translate("data: [DONE]\n\n");
    out += translate.end();
    CHECK_THAT(out, Contains(": keep-alive\n\n"));
    auto events = events_of(out);
    std::vector<std::string> types;
    for (size_t i = 0; i < events.size(); ++i) {
        types.push_back(events[i]["type"]);
        CHECK(events[i]["sequence_number"] == i);
    }
    CHECK(types == std::vector<std::string>{
                       "response.created", "response.in_progress", "response.output_item.added",
                       "response.content_part.added", "response.output_text.delta",
                       "response.output_text.delta", "response.output_text.done",
                       "response.content_part.done", "response.output_item.done",
                       "response.output_item.added", "response.function_call_arguments.delta",
                       "response.function_call_arguments.delta",
                       "response.function_call_arguments.done", "response.output_item.done",
                       "response.completed"});
    CHECK(events[0]["response"]["status"] == "in_progress");
    CHECK(events[2]["item"]["id"] == "msg_c7_0");
    CHECK(events[4]["item_id"] == "msg_c7_0");
    CHECK(events[6]["text"] == "Hello");
    CHECK(events[9]["output_index"] == 1);
    CHECK(events[9]["item"]["call_id"] == "call_z");
    CHECK(events[12]["arguments"] == "{\"c\":1}");
    const auto& done = events.back()["response"];
    CHECK(done["status"] == "completed");
    CHECK(done["output"][0]["id"] == "msg_c7_0");
    CHECK(done["output"][1]["id"] == "fc_c7_1");
    CHECK(done["output"][1]["arguments"] == "{\"c\":1}");
    CHECK(done["usage"]["total_tokens"] == 13);
}

TEST_CASE("a chat stream that breaks off ends in a Responses error event", "[responses]") {
    responses::StreamTranslator translate("m", json::object());
    translate.translate(chunk({{"content", "half"}}));
    auto events = events_of(translate.end());
    REQUIRE_FALSE(events.empty());
    CHECK(events.back()["type"] == "error");
    CHECK_THAT(events.back()["message"].get<std::string>(), Contains("before its answer"));
    CHECK(translate.end().empty());
}
