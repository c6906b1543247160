// The official Anthropic SDK and the OpenAI SDK's Responses API against aimo in front of a
// chat-completions upstream: whole, streamed and a full tool round trip each, and the errors.
#include "fake_upstream.hpp"
#include "sdk_support.hpp"

#include <fmt/format.h>

using namespace aimo;
using nlohmann::json;

namespace {
// A tool call answered whole, the same streamed, then the text after the tool's result.
std::vector<test::Scripted> tool_script() {
    auto chunk = test::FakeUpstream::chunk_event;
    auto call = [](const json& function, const std::string& id = "") {
        return test::FakeUpstream::tool_call_delta(function, id);
    };
    test::Scripted whole;
    whole.body = json{
        {"id", "chatcmpl-w"},
        {"object", "chat.completion"},
        {"created", 5},
        {"model", "llama3"},
        {"choices",
         {{{"index", 0},
           {"message",
            {{"role", "assistant"},
             {"content", "Let me check."},
             {"tool_calls",
              {{{"id", "call_w"},
                {"type", "function"},
                {"function", {{"name", "get_weather"}, {"arguments", "{\"city\":\"Paris\"}"}}}}}}}},
           {"finish_reason", "tool_calls"}}}},
        {"usage",
         {{"prompt_tokens", 30},
          {"completion_tokens",
           9}}}}.dump();
    test::Scripted streamed;
    streamed.sse = {chunk({{"role", "assistant"}, {"content", "Let me "}}, nullptr),
                    chunk({{"content", "check."}}, nullptr),
                    chunk(call({{"name", "get_weather"}, {"arguments", ""}}, "call_s"), nullptr),
                    chunk(call({{"arguments", "{\"city\""}}), nullptr),
                    chunk(call({{"arguments", ":\"Paris\"}"}}), nullptr),
                    chunk(json::object(), "tool_calls"),
                    "data: " +
                        json{{"id", "chatcmpl-stream"},
                             {"choices", json::array()},
                             {"usage", {{"prompt_tokens", 31}, {"completion_tokens", 10}}}}
                            .dump() +
                        "\n\n",
                    "data: [DONE]\n\n"};
    test::Scripted after;
    after.body = json{{"id", "chatcmpl-a"},
                      {"object", "chat.completion"},
                      {"choices",
                       {{{"index", 0},
                         {"message", {{"role", "assistant"}, {"content", "18 C in Paris."}}},
                         {"finish_reason", "stop"}}}},
                      {"usage", {{"prompt_tokens", 50}, {"completion_tokens", 6}}}}
                     .dump();
    test::Scripted missing;
    missing.status = 404;
    missing.body =
        R"({"error":{"message":"The model 'x' does not exist","type":"invalid_request_error",)"
        R"("code":"model_not_found"}})";
    return {whole, streamed, after, missing};
}

std::string config_for(const test::FakeUpstream& local) {
    return fmt::format("[[providers]]\nname = \"local\"\nbase_url = \"{}\"\n", local.base_url());
}
} // namespace

TEST_CASE("the Anthropic SDK talks to a chat upstream through aimo", "[e2e][dialects]") {
    std::string node_path = test::sdk_node_path("anthropic-sdk");
    REQUIRE_FALSE(node_path.empty());
    test::FakeUpstream local{"local", {"llama3"}};
    local.script(tool_script());
    test::ServedAimo aimo(config_for(local));
    auto seen = aimo.run_script("anthropic_sdk.cjs", node_path);
    INFO(seen.dump(2));

    CHECK(seen["whole"]["stop_reason"] == "tool_use");
    CHECK(seen["whole"]["content"][0] == json{{"type", "text"}, {"text", "Let me check."}});
    CHECK(seen["whole"]["content"][1]["input"] == json{{"city", "Paris"}});
    CHECK(seen["whole"]["usage"]["output_tokens"] == 9);

    CHECK(seen["stream"]["types"] ==
          json{"message_start", "content_block_start", "content_block_delta", "content_block_delta",
               "content_block_stop", "content_block_start", "content_block_delta",
               "content_block_delta", "content_block_stop", "message_delta", "message_stop"});
    CHECK(seen["stream"]["stop_reason"] == "tool_use");
    CHECK(seen["stream"]["content"][0]["text"] == "Let me check.");
    CHECK(seen["stream"]["content"][1]["id"] == "call_s");
    CHECK(seen["stream"]["content"][1]["input"] == json{{"city", "Paris"}}); // the SDK's own parse
    CHECK(seen["stream"]["usage"]["output_tokens"] == 10);
    CHECK(seen["stream"]["usage"]["input_tokens"] == 31);

    CHECK(seen["round_trip"]["stop_reason"] == "end_turn");
    CHECK(seen["round_trip"]["text"] == "18 C in Paris.");
    auto sent = json::parse(local.requests().at(2).body);
    const auto& messages = sent["messages"];
    REQUIRE(messages.size() == 4);
    CHECK(messages[2]["tool_calls"][0]["id"] == "call_s");
    CHECK(messages[3] ==
          json{{"role", "tool"}, {"tool_call_id", "call_s"}, {"content", "18 C and sunny"}});

    CHECK(seen["error"]["status"] == 404);
    CHECK(seen["error"]["not_found"] == true);
    CHECK(seen["error"]["type"] == "not_found_error");
    CHECK(seen["count"] == 5); // "Weather in Paris?": 17 characters
    CHECK(local.count() == 4);
}

TEST_CASE("the OpenAI SDK's Responses API talks to a chat upstream through aimo",
          "[e2e][dialects]") {
    std::string node_path = test::sdk_node_path("openai-sdk");
    REQUIRE_FALSE(node_path.empty());
    test::FakeUpstream local{"local", {"llama3"}};
    local.script(tool_script());
    test::ServedAimo aimo(config_for(local));
    auto seen = aimo.run_script("openai_responses.cjs", node_path);
    INFO(seen.dump(2));

    CHECK(seen["whole"]["status"] == "completed");
    CHECK(seen["whole"]["output"][0]["content"][0]["text"] == "Let me check.");
    CHECK(seen["whole"]["output"][1]["type"] == "function_call");
    CHECK(seen["whole"]["output"][1]["arguments"] == "{\"city\":\"Paris\"}");
    CHECK(seen["whole"]["usage"]["total_tokens"] == 39);

    CHECK(seen["stream"]["types"] ==
          json{"response.created", "response.in_progress", "response.output_item.added",
               "response.content_part.added", "response.output_text.delta",
               "response.output_text.delta", "response.output_text.done",
               "response.content_part.done", "response.output_item.done",
               "response.output_item.added", "response.function_call_arguments.delta",
               "response.function_call_arguments.delta", "response.function_call_arguments.done",
               "response.output_item.done", "response.completed"});
    CHECK(seen["stream"]["status"] == "completed");
    CHECK(seen["stream"]["output"][0]["content"][0]["text"] == "Let me check.");
    CHECK(seen["stream"]["output"][1]["call_id"] == "call_s");
    CHECK(seen["stream"]["output"][1]["arguments"] == "{\"city\":\"Paris\"}");
    CHECK(seen["stream"]["usage"]["output_tokens"] == 10);

    CHECK(seen["round_trip"]["status"] == "completed");
    CHECK(seen["round_trip"]["text"] == "18 C in Paris.");
    auto sent = json::parse(local.requests().at(2).body);
    const auto& messages = sent["messages"];
    REQUIRE(messages.size() == 4);
    CHECK(messages[0] == json{{"role", "system"}, {"content", "Be brief."}});
    CHECK(messages[2]["tool_calls"][0]["id"] == "call_s");
    CHECK(messages[3]["tool_call_id"] == "call_s");

    CHECK(seen["stateful"]["status"] == 400);
    CHECK(seen["stateful"]["message"].get<std::string>().find("aimo keeps no responses") !=
          std::string::npos);
    CHECK(seen["missing"]["status"] == 404);
    CHECK(seen["missing"]["code"] == "model_not_found");
    CHECK(local.count() == 4);
}
