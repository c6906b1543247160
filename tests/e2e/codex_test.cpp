// The real Codex CLI (installed by scripts/e2e-deps.sh) through aimo to a fake router:
// aimo connect codex --write, one `codex exec` turn over the Responses API, translated to
// signed chat completions.
#include "sdk_support.hpp"

using namespace aimo;
using Catch::Matchers::Contains;

TEST_CASE("Codex answers through aimo after aimo connect codex", "[e2e]") {
    test::ServedAimo aimo("");
    auto env = aimo.env;
    env["AIMO_PORT"] = aimo.origin.substr(aimo.origin.rfind(':') + 1);
    env["NO_COLOR"] = "1";
    env["CODEX_HOME"] = (aimo.home / "codex-home").string();

    auto connect = test::run_process(
        {AIMO_BINARY, "connect", "codex", "--write", "--model", "deepseek/deepseek-v3.2"}, env);
    INFO(connect.err);
    REQUIRE(connect.code == 0);

    auto turn = test::run_process({"timeout", "120", "codex", "exec", "--profile", "aimo",
                                   "--skip-git-repo-check", "--cd", aimo.home.path().string(),
                                   "Say hello."},
                                  env);
    INFO(turn.out << turn.err);
    CHECK(aimo.serve->wait_for_stderr("POST /v1/responses")); // the access log
    INFO(aimo.serve->stderr_text());
    REQUIRE(turn.code == 0);
    CHECK_THAT(turn.out, Contains("Hello!"));
    bool signed_completion = false;
    for (const auto& seen : aimo.router.requests()) {
        if (seen.path == "/api/v1/chat/completions") {
            CHECK(seen.siwx.valid);
            signed_completion = true;
        }
    }
    CHECK(signed_completion);
}
