// The commands that read [[providers]]: config show/check, list-models, connect openclaw, and
// the running proxy's reload on SIGHUP and on a file change.
#include "cli_setup.hpp"
#include "core/fs.hpp"
#include "fake_router.hpp"
#include "fake_upstream.hpp"
#include "http_helpers.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
struct Setup : test::CliSetup {
    test::FakeRouter router;
    test::FakeUpstream ollama{"ollama", {"llama3.1", "qwen2.5"}};
    const std::filesystem::path& file = config_file;

    Setup() {
        cli.use_router(router.url());
        write(config());
    }
    std::string config(const std::string& local_alias = "ollama/llama3.1") const {
        return fmt::format(R"(
[[providers]]
name = "aimo"
kind = "aimo"

[[providers]]
name = "ollama"
base_url = "{}"
first_byte_timeout = 120

[aliases]
local = "{}"

[[routes]]
model = "smart"
targets = ["aimo/deepseek/deepseek-v3.2", "ollama/qwen2.5"]
)",
                           ollama.base_url(), local_alias);
    }
    void write(const std::string& text) const { write_config(text); }
};

} // namespace

TEST_CASE("config show and check describe providers, aliases and routes", "[providers]") {
    Setup s;
    auto shown = s.cli.run({"config", "show"});
    REQUIRE(shown.code == 0);
    CHECK_THAT(shown.out,
               Contains("ollama") && Contains(s.ollama.base_url()) && Contains("first byte 120s"));
    CHECK_THAT(shown.out, Contains("alias  local -> ollama/llama3.1"));
    CHECK_THAT(shown.out,
               Contains("route  smart -> aimo/deepseek/deepseek-v3.2 -> ollama/qwen2.5"));
    auto as_json = json::parse(s.cli.run({"config", "show", "--json"}).out)["routing"];
    CHECK(as_json["providers"][1]["name"] == "ollama");
    CHECK(as_json["providers"][1]["models"] == "discovered");
    CHECK(as_json["routes"]["smart"][1] == "ollama/qwen2.5");
    CHECK(s.cli.run({"config", "check"}).code == 0);

    s.write(s.config() + "\n[[routes]]\nmodel = \"x\"\ntargets = [\"groq/llama\"]\n");
    auto bad = s.cli.run({"config", "check"});
    CHECK(bad.code == 1);
    CHECK_THAT(bad.err, Contains(s.file.string() + ":20:12") &&
                            Contains("names provider 'groq', which is not configured") &&
                            Contains("hint: write targets as <provider>/<model>"));

    s.write("[[providers]]\nname = \"openai\"\nbase_url = \"https://api.openai.com/v1\"\n"
            "api_key_env = \"OPENAI_API_KEY\"\n");
    CHECK_THAT(s.cli.run({"config", "check"}).err, Contains("OPENAI_API_KEY is not set"));
    s.cli.env["OPENAI_API_KEY"] = "sk-from-env";
    auto keyed = s.cli.run({"config", "show"});
    CHECK(keyed.code == 0);
    CHECK_THAT(keyed.out, Contains("key from $OPENAI_API_KEY") && !Contains("sk-from-env"));
}

TEST_CASE("list-models lists every provider's models", "[providers]") {
    Setup s;
    auto result = s.cli.run({"list-models"});
    REQUIRE(result.code == 0);
    CHECK_THAT(result.out, Contains("aimo/deepseek/deepseek-v3.2") && Contains("131072"));
    CHECK_THAT(result.out, Contains("ollama/llama3.1") && Contains("ollama/qwen2.5"));
    CHECK_THAT(result.out, Contains("smart") && Contains("local"));
    CHECK_THAT(result.err, Contains("7 models"));

    s.router.models_status = 503;
    auto partial = s.cli.run({"list-models", "--json"});
    CHECK(partial.code == 0);
    CHECK_THAT(partial.err, Contains("warning: no model list from provider aimo"));
    CHECK(json::parse(partial.out)["data"][0]["id"] == "ollama/llama3.1");
}

TEST_CASE("connect openclaw offers the merged catalogue without a running proxy", "[providers]") {
    Setup s;
    auto result = s.cli.run({"connect", "openclaw", "--port", "1"});
    REQUIRE(result.code == 0);
    CHECK_THAT(result.err, Contains("Models from the providers in " + s.file.string()));
    auto config = json::parse(core::read_file(s.home / ".openclaw/openclaw.json"));
    std::vector<std::string> ids;
    for (const auto& model : config["models"]["providers"]["aimo"]["models"]) {
        ids.push_back(model["id"]);
    }
    CHECK(std::find(ids.begin(), ids.end(), "ollama/qwen2.5") != ids.end());
    CHECK(std::find(ids.begin(), ids.end(), "smart") != ids.end());
}

TEST_CASE("the running proxy reloads on SIGHUP and on save, and keeps a good config",
          "[providers]") {
    Setup s;
    std::map<std::string, std::string> env = {{"HOME", s.home.path().string()},
                                              {"PATH", "/usr/bin:/bin"},
                                              {"AIMO_ROUTER_URL", s.router.url()}};
    test::Subprocess server({AIMO_BINARY, "serve", "--port", "0", "--config-poll-ms", "50"}, env);
    REQUIRE(server.wait_for_stderr("Ctrl-C stops"));
    auto banner = server.stderr_text();
    CHECK_THAT(banner, Contains("provider: ollama (" + s.ollama.base_url()) &&
                           Contains("wallet:   " + std::string(test::rfc8032_address)));
    int port = test::banner_port(banner);

    auto first = test::http_post(port, "/v1/chat/completions", test::chat_body("local"));
    CHECK(first.header("x-aimo-provider") == "ollama");
    CHECK(json::parse(s.ollama.requests().at(0).body)["model"] == "llama3.1");

    // Saving the file: the new alias applies to the next request.
    s.write(s.config("aimo/deepseek/deepseek-v3.2"));
    REQUIRE(server.wait_for_stderr("aimo: config reloaded (file changed)"));
    CHECK(test::http_post(port, "/v1/chat/completions", test::chat_body("local"))
              .header("x-aimo-provider") == "aimo");

    // A broken file is refused, said so, and the previous config keeps serving.
    s.write(s.config() + "\n[[providers]]\nname = \"ollama\"\n");
    REQUIRE(server.wait_for_stderr("config not reloaded (file changed)"));
    CHECK_THAT(server.stderr_text(),
               Contains("has no base_url") && Contains("the previous config keeps serving"));
    CHECK(test::http_post(port, "/v1/chat/completions", test::chat_body("local"))
              .header("x-aimo-provider") == "aimo");

    // SIGHUP reloads too (here: the same broken file, refused again).
    server.signal(SIGHUP);
    REQUIRE(server.wait_for_stderr("config not reloaded (SIGHUP)"));
    CHECK(test::http_get(port, "/health").status == 200);
    server.signal(SIGTERM);
    CHECK(server.wait() == 0);
}
