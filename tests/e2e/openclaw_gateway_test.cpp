// The real OpenClaw gateway as an upstream (a provider of kind openclaw): a client asks aimo for
// claw/openclaw/main; aimo forwards to the gateway with its token and the client's x-openclaw
// headers; the gateway runs its main agent, whose model is aimo again, in front of the router.
#include "core/fs.hpp"
#include "fake_upstream.hpp"
#include "http_helpers.hpp"
#include "sdk_support.hpp"

#include <fmt/format.h>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

TEST_CASE("an OpenClaw gateway answers through aimo as a provider of kind openclaw", "[e2e]") {
    int gateway_port = test::refused_port(); // a free port: the gateway must be told its own
    test::ServedAimo aimo(fmt::format(R"(
[[providers]]
name = "aimo"
kind = "aimo"

[[providers]]
name = "claw"
kind = "openclaw"
base_url = "http://127.0.0.1:{}/v1"
api_key_env = "OPENCLAW_GATEWAY_TOKEN"
models = ["openclaw/main"]
first_byte_timeout = 170
)",
                                      gateway_port),
                          {{"OPENCLAW_GATEWAY_TOKEN", "gw-secret"}});
    auto env = aimo.env;
    env["AIMO_PORT"] = aimo.origin.substr(aimo.origin.rfind(':') + 1);
    env["NO_COLOR"] = "1";
    env["OPENCLAW_GATEWAY_TOKEN"] = "gw-secret";

    // The gateway's own agent uses aimo's router model; its HTTP surface and token are on.
    auto connect = test::run_process(
        {AIMO_BINARY, "connect", "openclaw", "--model", "aimo/deepseek/deepseek-v3.2"}, env);
    INFO(connect.err);
    REQUIRE(connect.code == 0);
    auto config_path = aimo.home / ".openclaw/openclaw.json";
    auto config = json::parse(core::read_file(config_path));
    config["gateway"] = {
        {"mode", "local"},
        {"port", gateway_port},
        {"bind", "loopback"},
        {"auth", {{"mode", "token"}, {"token", "gw-secret"}}},
        {"http",
         {{"endpoints",
           {{"chatCompletions", {{"enabled", true}}}, {"responses", {{"enabled", true}}}}}}}};
    std::ofstream(config_path) << config.dump(2);

    // It logs to stdout; the readiness line is its "http server listening".
    test::Subprocess gateway(
        {"/bin/sh", "-c", "exec openclaw gateway --port " + std::to_string(gateway_port) + " 1>&2"},
        env);
    INFO(gateway.stderr_text());
    REQUIRE(gateway.wait_for_stderr("http server listening", 120000));

    auto reply = test::http_post(
        std::stoi(env["AIMO_PORT"]), "/v1/chat/completions",
        R"({"model":"claw/openclaw/main","messages":[{"role":"user","content":"Say hello."}]})",
        {{"Authorization", "Bearer aimo-local"}, {"x-openclaw-session-key", "aimo-e2e"}}, {}, 180);
    INFO(reply.body << aimo.serve->stderr_text());
    REQUIRE(reply.status == 200);
    CHECK_THAT(json::parse(reply.body)["choices"][0]["message"]["content"].get<std::string>(),
               Contains("Hello!"));
    bool signed_completion = false;
    for (const auto& seen : aimo.router.requests()) {
        signed_completion =
            signed_completion || (seen.path == "/api/v1/chat/completions" && seen.siwx.valid);
    }
    CHECK(signed_completion); // the gateway's agent came back through aimo to the router
}
