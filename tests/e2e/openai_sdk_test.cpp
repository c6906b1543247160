// The official OpenAI SDK for Node (installed by scripts/e2e-deps.sh) against aimo's response
// cache: tool calls replayed stream -> JSON and JSON -> stream, read the way applications do.
#include "fake_upstream.hpp"
#include "sdk_support.hpp"

#include <fmt/format.h>

using namespace aimo;
using nlohmann::json;

namespace {
std::string chunk(const json& delta, const json& finish = nullptr) {
    return test::FakeUpstream::chunk_event(delta, finish);
}
const auto call = test::FakeUpstream::tool_call_delta;
} // namespace

TEST_CASE("the OpenAI SDK reads cached tool calls in either shape", "[e2e][cache]") {
    std::string node_path = test::sdk_node_path("openai-sdk");
    REQUIRE_FALSE(node_path.empty());
    test::FakeUpstream local{"local", {"llama3"}};
    test::Scripted streamed;
    streamed.sse = {chunk({{"role", "assistant"}, {"content", nullptr}}),
                    chunk(call({{"name", "get_weather"}, {"arguments", ""}}, "call_paris")),
                    chunk(call({{"arguments", "{\"city\""}}, "")),
                    chunk(call({{"arguments", ":\"Paris\"}"}}, "")),
                    chunk(json::object(), "tool_calls"),
                    "data: [DONE]\n\n"};
    test::Scripted whole;
    whole.body = json{
        {"id", "chatcmpl-j"},
        {"object", "chat.completion"},
        {"created", 2},
        {"model", "llama3"},
        {"choices",
         {{{"index", 0},
           {"message",
            {{"role", "assistant"},
             {"content", nullptr},
             {"tool_calls",
              {{{"id", "call_rome"},
                {"type", "function"},
                {"function", {{"name", "get_weather"}, {"arguments", "{\"city\":\"Rome\"}"}}}}}}}},
           {"finish_reason", "tool_calls"}}}},
        {"usage",
         {{"prompt_tokens", 30},
          {"completion_tokens", 9},
          {"total_tokens",
           39}}}}.dump();
    local.script({streamed, whole});

    test::ServedAimo aimo(
        fmt::format("[[providers]]\nname = \"local\"\nbase_url = \"{}\"\n", local.base_url()));
    auto seen = aimo.run_script("openai_sdk_cache.cjs", node_path);

    CHECK(seen["stream_first"]["cache"] == "miss");
    CHECK(seen["stream_first"]["calls"][0]["arguments"] == "{\"city\":\"Paris\"}");
    CHECK(seen["json_second"]["cache"] == "hit");
    CHECK(seen["json_second"]["finish"] == "tool_calls");
    CHECK(seen["json_second"]["calls"][0]["id"] == "call_paris");
    CHECK(seen["json_second"]["calls"][0]["name"] == "get_weather");
    CHECK(seen["json_second"]["calls"][0]["arguments"] == "{\"city\":\"Paris\"}");

    CHECK(seen["json_first"]["cache"] == "miss");
    CHECK(seen["stream_second"]["cache"] == "hit");
    CHECK(seen["stream_second"]["finish"] == "tool_calls");
    CHECK(seen["stream_second"]["calls"][0]["id"] == "call_rome");
    CHECK(seen["stream_second"]["calls"][0]["arguments"] == "{\"city\":\"Rome\"}");
    CHECK(seen["stream_second"]["usage"]["total_tokens"] == 39);
    CHECK(seen["accumulated"]["finish"] == "tool_calls");
    CHECK(seen["accumulated"]["arguments"] == "{\"city\":\"Rome\"}");
    CHECK(local.count() == 2); // everything after the first two came from the cache
}
