// The real Claude Code (installed by scripts/e2e-deps.sh) through aimo to a fake router:
// aimo connect claude-code --write, one headless turn over Anthropic Messages, and the router
// seeing signed chat completions.
#include "sdk_support.hpp"

using namespace aimo;
using Catch::Matchers::Contains;

TEST_CASE("Claude Code answers through aimo after aimo connect claude-code", "[e2e]") {
    test::ServedAimo aimo("");
    auto env = aimo.env;
    env["AIMO_PORT"] = aimo.origin.substr(aimo.origin.rfind(':') + 1);
    env["NO_COLOR"] = "1";
    // Only the model requests: nothing may leave this machine in a test.
    env["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1";
    env["DISABLE_AUTOUPDATER"] = "1";

    auto connect = test::run_process(
        {AIMO_BINARY, "connect", "claude-code", "--write", "--model", "deepseek/deepseek-v3.2"},
        env);
    INFO(connect.err);
    REQUIRE(connect.code == 0);

    auto turn = test::run_process(
        {"timeout", "120", "claude", "-p", "Say hello.", "--output-format", "json"}, env);
    INFO(turn.out << turn.err << aimo.serve->stderr_text());
    REQUIRE(turn.code == 0);
    auto result = nlohmann::json::parse(turn.out.substr(turn.out.find('{')));
    CHECK(result["is_error"] == false);
    CHECK_THAT(result["result"].get<std::string>(), Contains("Hello!"));

    CHECK(aimo.serve->wait_for_stderr("POST /v1/messages")); // the access log
    bool signed_completion = false;
    for (const auto& seen : aimo.router.requests()) {
        if (seen.path == "/api/v1/chat/completions") {
            CHECK(seen.siwx.valid);
            signed_completion = true;
        }
    }
    CHECK(signed_completion);
}
