// Drives the real OpenClaw (installed by scripts/e2e-deps.sh) through aimo to a fake router:
// connect, validate, one agent turn, and a check that the router saw a valid signature.
#include "fake_router.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>

using namespace aimo;
using Catch::Matchers::Contains;

namespace {
// One real OpenClaw turn with the provider written for `api`: the dialect OpenClaw speaks to
// aimo (`path`), chat completions from aimo to the router, signed either way.
void openclaw_turn(const std::string& api, const std::string& path) {
    test::TempDir home;
    test::FakeRouter router;
    auto key = home / "keypair.json";
    test::write_rfc8032_keypair(key);
    std::map<std::string, std::string> env = {
        {"HOME", home.path().string()},
        {"PATH", std::string(AIMO_E2E_PATH) + ":/usr/local/bin:/usr/bin:/bin"},
        {"AIMO_KEYPAIR", key.string()},
        {"AIMO_ROUTER_URL", router.url()},
        {"NO_COLOR", "1"}};

    test::Subprocess serve({AIMO_BINARY, "chat", "--serve", "--port", "0"}, env);
    REQUIRE(serve.wait_for_stderr("Ctrl-C stops"));
    std::smatch match;
    std::string banner = serve.stderr_text();
    REQUIRE(std::regex_search(banner, match, std::regex(R"(127\.0\.0\.1:(\d+)/v1)")));
    std::string port = match[1];
    env["AIMO_PORT"] = port;

    auto connect = test::run_process({AIMO_BINARY, "connect", "openclaw", "--api", api}, env);
    INFO(connect.err);
    REQUIRE(connect.code == 0);
    CHECK_THAT(connect.err, Contains("checked with: openclaw config validate"));

    auto validate = test::run_process({"openclaw", "config", "validate", "--json"}, env);
    INFO(validate.out << validate.err);
    auto verdict = nlohmann::json::parse(validate.out.substr(validate.out.find('{')));
    CHECK(verdict["valid"] == true);

    std::string session = "e2e-" + std::to_string(std::random_device{}());
    auto turn = test::run_process({"timeout", "180", "openclaw", "agent", "--local", "--agent",
                                   "main", "--session-id", session, "-m", "Say hello."},
                                  env);
    INFO(turn.out << turn.err);
    REQUIRE(turn.code == 0);
    CHECK_THAT(turn.out, Contains("Hello!"));

    bool signed_completion = false;
    for (const auto& seen : router.requests()) {
        if (seen.path == "/api/v1/chat/completions") {
            CHECK(seen.siwx.valid);
            CHECK(seen.siwx.message.address == test::rfc8032_address);
            CHECK(seen.siwx.message.uri == router.url() + "/api/v1/chat/completions");
            CHECK(nlohmann::json::parse(seen.body)["model"] == "deepseek/deepseek-v3.2");
            signed_completion = signed_completion || seen.siwx.valid;
        }
    }
    CHECK(signed_completion);
    // The access log shows the dialect OpenClaw used; the ledger would group it --by dialect.
    CHECK(serve.wait_for_stderr("POST " + path));

    auto doctor = test::run_process({AIMO_BINARY, "doctor"}, env);
    INFO(doctor.out);
    CHECK(doctor.code == 0);

    serve.signal(SIGTERM);
    CHECK(serve.wait() == 0);
}
} // namespace

TEST_CASE("OpenClaw answers through aimo after aimo connect openclaw", "[e2e]") {
    openclaw_turn("openai-completions", "/v1/chat/completions");
}

TEST_CASE("OpenClaw speaking the Responses API answers through aimo", "[e2e]") {
    openclaw_turn("openai-responses", "/v1/responses");
}

TEST_CASE("OpenClaw speaking Anthropic Messages answers through aimo", "[e2e]") {
    openclaw_turn("anthropic-messages", "/v1/messages");
}
