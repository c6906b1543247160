// connect claude-code and connect codex: what each client needs, printed or written safely
// into its own settings, and undone.
#include "cli_setup.hpp"
#include "core/fs.hpp"
#include "fake_router.hpp"
#include "proxy_fixture.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
struct Setup : test::CliSetup {
    test::FakeRouter router;
    test::ProxyFixture proxy{router.url()};
    std::filesystem::path claude = home / ".claude/settings.json";
    std::filesystem::path codex = home / ".codex/aimo.config.toml";

    Setup() { cli.use_router(router.url()); }
    std::string root() const { return "http://127.0.0.1:" + std::to_string(proxy.port()); }
    test::CliResult run(const std::string& client, std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"connect", client, "--port", std::to_string(proxy.port())};
        args.insert(args.end(), extra.begin(), extra.end());
        return cli.run(args);
    }
};
} // namespace

TEST_CASE("connect claude-code prints the env block and writes nothing by default",
          "[connect][claude-code]") {
    Setup s;
    auto printed = s.run("claude-code", {"--model", "deepseek/deepseek-v3.2"});
    REQUIRE(printed.code == 0);
    auto env = json::parse(printed.out)["env"];
    CHECK(env["ANTHROPIC_BASE_URL"] == s.root()); // Claude Code adds /v1/messages
    CHECK(env["ANTHROPIC_AUTH_TOKEN"] == "aimo-local");
    CHECK(env["ANTHROPIC_MODEL"] == "deepseek/deepseek-v3.2");
    CHECK(env["ANTHROPIC_DEFAULT_HAIKU_MODEL"] == "deepseek/deepseek-v3.2");
    CHECK_THAT(printed.err, Contains(s.claude.string()) && Contains("--write"));
    CHECK_FALSE(std::filesystem::exists(s.claude));

    // Without --model the catalogue's first model is taken, and said so.
    auto chosen = s.run("claude-code");
    REQUIRE(chosen.code == 0);
    CHECK_THAT(chosen.err, Contains("no --model given; using deepseek/deepseek-v3.2"));
}

TEST_CASE("connect claude-code --write merges, backs up, and --disconnect restores",
          "[connect][claude-code]") {
    Setup s;
    std::string original = R"({"theme":"dark","env":{"ANTHROPIC_MODEL":"claude-x","KEEP":"1"}})";
    s.write_file(s.claude, original);
    auto connected = s.run("claude-code", {"--write", "--model", "m1", "--api-key", "aimo_tok"});
    INFO(connected.err);
    REQUIRE(connected.code == 0);
    CHECK_THAT(connected.err, Contains("Connected Claude Code") && Contains("backup"));
    CHECK(core::file_mode(s.claude) == 0600);
    auto settings = json::parse(core::read_file(s.claude));
    CHECK(settings["theme"] == "dark");
    CHECK(settings["env"]["KEEP"] == "1");
    CHECK(settings["env"]["ANTHROPIC_MODEL"] == "m1");
    CHECK(settings["env"]["ANTHROPIC_AUTH_TOKEN"] == "aimo_tok");
    CHECK(core::read_file(s.claude.string() + ".aimo-backup") == original);

    auto again = s.run("claude-code", {"--write", "--model", "m1", "--api-key", "aimo_tok"});
    CHECK_THAT(again.err, Contains("already connected"));

    auto undone = s.run("claude-code", {"--disconnect"});
    REQUIRE(undone.code == 0);
    settings = json::parse(core::read_file(s.claude));
    CHECK(settings == json::parse(original));

    // A settings file that is not JSON is refused and left as it was.
    s.write_file(s.claude, "{ not json");
    auto broken = s.run("claude-code", {"--write", "--model", "m1"});
    CHECK(broken.code == 1);
    CHECK_THAT(broken.err, Contains("is not a JSON object") && Contains("hint:"));
    CHECK(core::read_file(s.claude) == "{ not json");
}

TEST_CASE("a value changed by hand survives claude-code --disconnect", "[connect][claude-code]") {
    Setup s;
    REQUIRE(s.run("claude-code", {"--write", "--model", "m1"}).code == 0);
    auto settings = json::parse(core::read_file(s.claude));
    settings["env"]["ANTHROPIC_MODEL"] = "mine";
    s.write_file(s.claude, settings.dump());
    auto undone = s.run("claude-code", {"--disconnect"});
    CHECK_THAT(undone.err, Contains("ANTHROPIC_MODEL was changed since"));
    settings = json::parse(core::read_file(s.claude));
    CHECK(settings["env"] == json{{"ANTHROPIC_MODEL", "mine"}});
}

TEST_CASE("connect codex writes a profile of its own and removes only that", "[connect][codex]") {
    Setup s;
    auto printed = s.run("codex", {"--model", "deepseek/deepseek-v3.2"});
    REQUIRE(printed.code == 0);
    CHECK_FALSE(std::filesystem::exists(s.codex));

    auto written = s.run("codex", {"--write", "--model", "deep\"seek", "--api-key", "aimo_t"});
    INFO(written.err);
    REQUIRE(written.code == 0);
    CHECK_THAT(written.err, Contains("codex --profile aimo"));
    CHECK(core::file_mode(s.codex) == 0600);
    auto profile = toml::parse_file(s.codex.string());
    CHECK(profile["model"].value_or(std::string()) == "deep\"seek");
    CHECK(profile["model_provider"].value_or(std::string()) == "aimo");
    auto provider = profile["model_providers"]["aimo"];
    CHECK(provider["base_url"].value_or(std::string()) == s.root() + "/v1");
    CHECK(provider["wire_api"].value_or(std::string()) == "responses");
    CHECK(provider["experimental_bearer_token"].value_or(std::string()) == "aimo_t");

    REQUIRE(s.run("codex", {"--disconnect"}).code == 0);
    CHECK_FALSE(std::filesystem::exists(s.codex));

    // Someone else's profile of that name is never replaced or removed.
    s.write_file(s.codex, "model = \"gpt-5\"\n");
    auto refused = s.run("codex", {"--write", "--model", "m1"});
    CHECK(refused.code == 1);
    CHECK_THAT(refused.err, Contains("not written by aimo") && Contains("--profile"));
    CHECK(s.run("codex", {"--disconnect"}).code == 1);
    CHECK(core::read_file(s.codex) == "model = \"gpt-5\"\n");
    CHECK(s.run("codex", {"--profile", "a b", "--model", "m"}).code == 2);
}
