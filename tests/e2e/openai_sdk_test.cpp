// The official OpenAI SDK for Node (installed by scripts/e2e-deps.sh) against aimo's response
// cache: tool calls replayed stream -> JSON and JSON -> stream, read the way applications do.
#include "fake_router.hpp"
#include "fake_upstream.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

using namespace aimo;
using nlohmann::json;

namespace {
// The SDK's node_modules: the AIMO_E2E_PATH entry .../openai-sdk/node_modules/.bin, less .bin.
std::string sdk_node_path() {
    std::stringstream entries(AIMO_E2E_PATH);
    std::string entry;
    while (std::getline(entries, entry, ':')) {
        if (entry.find("openai-sdk") != std::string::npos) {
            return entry.substr(0, entry.rfind("/.bin"));
        }
    }
    return "";
}

std::string chunk(const json& delta, const json& finish = nullptr) {
    return test::FakeUpstream::chunk_event(delta, finish);
}
const auto call = test::FakeUpstream::tool_call_delta;
} // namespace

TEST_CASE("the OpenAI SDK reads cached tool calls in either shape", "[e2e][cache]") {
    std::string node_path = sdk_node_path();
    REQUIRE_FALSE(node_path.empty());
    test::TempDir home;
    test::FakeRouter router;
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

    auto key = home / "keypair.json";
    test::write_rfc8032_keypair(key);
    std::filesystem::create_directories(home / ".config/aimo");
    std::ofstream(home / ".config/aimo/config.toml")
        << fmt::format("[[providers]]\nname = \"local\"\nbase_url = \"{}\"\n", local.base_url());
    std::map<std::string, std::string> env = {
        {"HOME", home.path().string()},
        {"PATH", std::string(AIMO_E2E_PATH) + ":/usr/local/bin:/usr/bin:/bin"},
        {"AIMO_KEYPAIR", key.string()},
        {"AIMO_ROUTER_URL", router.url()}};
    test::Subprocess serve({AIMO_BINARY, "serve", "--port", "0"}, env);
    REQUIRE(serve.wait_for_stderr("Ctrl-C stops"));
    std::smatch match;
    std::string banner = serve.stderr_text();
    REQUIRE(std::regex_search(banner, match, std::regex(R"(127\.0\.0\.1:(\d+)/v1)")));
    env["AIMO_BASE_URL"] = "http://127.0.0.1:" + std::string(match[1]) + "/v1";
    env["NODE_PATH"] = node_path;

    auto run = test::run_process(
        {"timeout", "60", "node", std::string(AIMO_SOURCE_DIR) + "/tests/e2e/openai_sdk_cache.cjs"},
        env);
    INFO(run.out << run.err << serve.stderr_text());
    REQUIRE(run.code == 0);
    auto seen = json::parse(run.out);

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
