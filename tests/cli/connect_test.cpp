#include "cli_setup.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "fake_router.hpp"
#include "mutate.hpp"
#include "proxy_fixture.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
struct Setup : test::CliSetup {
    test::FakeRouter router;
    test::ProxyFixture proxy{router.url()};
    const std::filesystem::path& config = openclaw_config;

    Setup() { cli.use_router(router.url()); }
    std::string port() const { return std::to_string(proxy.port()); }
    test::CliResult connect(std::vector<std::string> extra = {}) {
        std::vector<std::string> args = {"connect", "openclaw", "--port", port()};
        args.insert(args.end(), extra.begin(), extra.end());
        return cli.run(args);
    }
    void write_config(const std::string& text) { write_file(config, text); }
    std::string read_config() const { return core::read_file(config); }
};

const char* json5_config = R"(// OpenClaw config, hand-edited
{
  meta: { lastTouchedVersion: '2026.9.6' },
  gateway: { auth: { token: '${OPENCLAW_GATEWAY_TOKEN}' }, },
  agents: {
    defaults: { model: { primary: 'openai/gpt-4o', fallbacks: ['openai/gpt-4o-mini'] } },
  },
}
)";
} // namespace

TEST_CASE("connect creates a missing config from the running proxy's catalogue", "[connect]") {
    Setup s;
    auto result = s.connect();
    REQUIRE(result.code == 0);
    CHECK_THAT(result.err, Contains("Connected OpenClaw to aimo") && Contains("created") &&
                               Contains("openclaw agent --local -m"));
    CHECK(core::file_mode(s.config) == 0600);
    auto config = json::parse(s.read_config());
    auto provider = config["models"]["providers"]["aimo"];
    CHECK(provider["baseUrl"] == "http://127.0.0.1:" + s.port() + "/v1");
    CHECK(provider["models"].size() == 3);
    CHECK(provider["models"][0]["contextWindow"] == 131072);
    CHECK(provider["models"][0]["name"] == "DeepSeek V3.2");
    CHECK(config["agents"]["defaults"]["model"]["primary"] == "aimo/deepseek/deepseek-v3.2");
    CHECK(s.router.count("/api/v1/models") == 1); // via the proxy
}

TEST_CASE("connect keeps the user's settings, backs up once and is idempotent", "[connect]") {
    Setup s;
    s.write_config(json5_config);
    REQUIRE(s.connect({"--model", "openai/gpt-4o-mini"}).code == 0);
    auto backup = s.config.string() + ".aimo-backup";
    CHECK(core::read_file(backup) == json5_config);
    std::string first = s.read_config();
    auto config = nlohmann::ordered_json::parse(first);
    CHECK(config["gateway"]["auth"]["token"] == "${OPENCLAW_GATEWAY_TOKEN}");
    CHECK(config.begin().key() == "meta");
    CHECK(config["agents"]["defaults"]["model"] ==
          nlohmann::ordered_json::parse(
              R"({"primary":"aimo/openai/gpt-4o-mini","fallbacks":["openai/gpt-4o-mini"]})"));

    auto again = s.connect();
    CHECK(again.code == 0);
    CHECK_THAT(again.err, Contains("already connected") && Contains("unchanged"));
    CHECK(s.read_config() == first);
    CHECK(core::read_file(backup) == json5_config);
}

TEST_CASE("a dry run prints a diff and writes nothing", "[connect]") {
    Setup s;
    s.write_config(json5_config);
    auto result = s.connect({"--dry-run"});
    REQUIRE(result.code == 0);
    CHECK_THAT(result.out, Contains("+        \"baseUrl\": \"http://127.0.0.1:" + s.port()));
    CHECK_THAT(result.out, Contains("-// OpenClaw config, hand-edited"));
    CHECK_THAT(result.err, Contains("dry run: nothing written"));
    CHECK(s.read_config() == json5_config);
    CHECK_FALSE(std::filesystem::exists(s.config.string() + ".aimo-backup"));
}

TEST_CASE("a broken, read-only or split config is left untouched", "[connect]") {
    Setup s;
    SECTION("unparseable") {
        s.write_config("{\n  agents: { defaults: {,\n}");
        auto result = s.connect();
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains(s.config.string() + ":2:24"));
        CHECK(s.read_config() == "{\n  agents: { defaults: {,\n}");
    }
    SECTION("not UTF-8") {
        s.write_config("{ a: \"\xe9\" }");
        for (const char* command : {"connect", "doctor"}) {
            INFO(command);
            auto result = std::string(command) == "connect"
                              ? s.connect({"--dry-run"})
                              : s.cli.run({"doctor", "--port", s.port()});
            CHECK(result.code == 1);
            CHECK_THAT(result.err + result.out,
                       Contains(s.config.string() + ":1:7: byte 0xe9 is not valid UTF-8"));
        }
        CHECK(s.read_config() == "{ a: \"\xe9\" }");
    }
    SECTION("not an object") {
        s.write_config("[1,2,3]");
        auto result = s.connect();
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains(s.config.string() + ": not a JSON object"));
        CHECK(s.read_config() == "[1,2,3]");
    }
    SECTION("a section of the wrong type") {
        s.write_config("{ models: 'mine', agents: {} }");
        auto result = s.connect();
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains(s.config.string() + ": 'models' is a string"));
        CHECK(s.read_config() == "{ models: 'mine', agents: {} }");
    }
    SECTION("read-only") {
        s.write_config(json5_config);
        s.cli.env["OPENCLAW_CONFIG_READONLY"] = "1";
        auto result = s.connect();
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains("read-only"));
        CHECK(s.read_config() == json5_config);
    }
    SECTION("$include") {
        s.write_config(R"({"models": {"$include": "./models.json5"}})");
        auto result = s.connect();
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains("$include"));
        CHECK(s.read_config() == R"({"models": {"$include": "./models.json5"}})");
    }
}

TEST_CASE("the config is found where OpenClaw looks for it", "[connect]") {
    Setup s;
    SECTION("OPENCLAW_CONFIG_PATH") {
        s.cli.env["OPENCLAW_CONFIG_PATH"] = (s.home / "custom.json").string();
        REQUIRE(s.connect().code == 0);
        CHECK(std::filesystem::exists(s.home / "custom.json"));
    }
    SECTION("OPENCLAW_STATE_DIR") {
        s.cli.env["OPENCLAW_STATE_DIR"] = (s.home / "state").string();
        REQUIRE(s.connect().code == 0);
        CHECK(std::filesystem::exists(s.home / "state/openclaw.json"));
    }
    SECTION("legacy clawdbot file") {
        std::filesystem::create_directories(s.home / ".clawdbot");
        std::ofstream(s.home / ".clawdbot/clawdbot.json") << "{}";
        REQUIRE(s.connect().code == 0);
        CHECK(json::parse(core::read_file(s.home / ".clawdbot/clawdbot.json")).contains("models"));
        CHECK_FALSE(std::filesystem::exists(s.config));
    }
    SECTION("--config-path") {
        REQUIRE(s.connect({"--config-path", (s.home / "x.json").string()}).code == 0);
        CHECK(std::filesystem::exists(s.home / "x.json"));
    }
}

TEST_CASE("stale per-agent models.json entries are removed with a backup", "[connect]") {
    Setup s;
    auto registry = s.home / ".openclaw/agents/main/agent/models.json";
    std::filesystem::create_directories(registry.parent_path());
    const std::string stale = R"({"providers":{"aimo":{"baseUrl":"http://127.0.0.1:1/v1"},
        "openai":{"baseUrl":"https://x"}}})";
    std::ofstream(registry) << stale;
    auto result = s.connect();
    REQUIRE(result.code == 0);
    CHECK_THAT(result.err, Contains("removed a stale 'aimo' entry"));
    auto cleaned = json::parse(core::read_file(registry));
    CHECK_FALSE(cleaned["providers"].contains("aimo"));
    CHECK(cleaned["providers"]["openai"]["baseUrl"] == "https://x");
    CHECK(core::read_file(registry.string() + ".aimo-backup") == stale);
}

TEST_CASE("disconnect restores the backup when the file is as aimo left it", "[connect]") {
    Setup s;
    s.write_config(json5_config);
    REQUIRE(s.connect().code == 0);
    auto result = s.connect({"--disconnect"});
    REQUIRE(result.code == 0);
    CHECK_THAT(result.err, Contains("restored"));
    CHECK(s.read_config() == json5_config);
}

TEST_CASE("disconnect after user edits removes only aimo's parts", "[connect]") {
    Setup s;
    s.write_config(json5_config);
    REQUIRE(s.connect().code == 0);
    auto config = json::parse(s.read_config());
    config["gateway"]["port"] = 19000; // the user changed something since
    std::ofstream(s.config) << config.dump(2);
    REQUIRE(s.connect({"--disconnect"}).code == 0);
    auto after = json::parse(s.read_config());
    CHECK(after["gateway"]["port"] == 19000);
    CHECK_FALSE(after["models"]["providers"].contains("aimo"));
    CHECK(after["agents"]["defaults"]["model"]["primary"] == "openai/gpt-4o");
    CHECK(after["agents"]["defaults"]["model"]["fallbacks"] ==
          json::parse(R"(["openai/gpt-4o-mini"])"));
}

TEST_CASE("connect needs a catalogue or --model", "[connect]") {
    Setup s;
    s.cli.env["AIMO_ROUTER_URL"] = "http://127.0.0.1:1";
    auto none = s.cli.run({"connect", "openclaw", "--port", "1"});
    CHECK(none.code == 1);
    CHECK_THAT(none.err, Contains("no model catalogue") && Contains("--model"));
    CHECK_FALSE(std::filesystem::exists(s.config));

    auto named = s.cli.run({"connect", "openclaw", "--port", "1", "--model", "my/model"});
    CHECK(named.code == 0);
    CHECK_THAT(named.err, Contains("warning"));
    CHECK(json::parse(s.read_config())["agents"]["defaults"]["model"]["primary"] ==
          "aimo/my/model");

    auto unknown = s.connect({"--model", "not/listed"});
    CHECK(unknown.code == 2);
    CHECK_THAT(unknown.err, Contains("not in the catalogue"));
}

TEST_CASE("a change OpenClaw rejects is rolled back", "[connect]") {
    Setup s;
    s.write_config(json5_config);
    // Stand-in for `openclaw config validate --json` that rejects any aimo provider.
    auto bin = s.home / "bin";
    std::filesystem::create_directories(bin);
    std::ofstream(bin / "openclaw") << "#!/bin/sh\n"
                                       "if grep -q '\"aimo\"' \"$OPENCLAW_CONFIG_PATH\"; then\n"
                                       "  echo '{\"valid\":false,\"issues\":[{\"path\":\"models."
                                       "providers.aimo\",\"message\":\"Unrecognized key\"}]}'\n"
                                       "else echo '{\"valid\":true}'; fi\n";
    std::filesystem::permissions(bin / "openclaw", std::filesystem::perms::owner_all);
    s.cli.env["PATH"] = bin.string() + ":/usr/bin:/bin";
    auto result = s.connect();
    CHECK(result.code == 1);
    CHECK_THAT(result.err, Contains("OpenClaw rejected the change") &&
                               Contains("models.providers.aimo: Unrecognized key"));
    CHECK(s.read_config() == json5_config);
}

TEST_CASE("connect reports as JSON and honours provider id, key and no-default", "[connect]") {
    Setup s;
    s.write_config(R"({"agents":{"defaults":{"model":"openai/gpt-4o"}}})");
    auto result =
        s.connect({"--json", "--provider-id", "local-aimo", "--api-key", "k1", "--no-default"});
    REQUIRE(result.code == 0);
    auto report = json::parse(result.out);
    CHECK(report["config"] == s.config.string());
    CHECK(report["changed"] == true);
    CHECK(report["primary"] == "openai/gpt-4o");
    CHECK_THAT(report["models_from"].get<std::string>(), Contains("running proxy"));
    auto config = json::parse(s.read_config());
    CHECK(config["models"]["providers"]["local-aimo"]["apiKey"] == "k1");
    CHECK(config["agents"]["defaults"]["model"] == "openai/gpt-4o");

    auto empty_key = s.connect({"--api-key", ""});
    CHECK(empty_key.code == 2);
}

TEST_CASE("connect writes the api OpenClaw should speak, and the base URL that api wants",
          "[connect]") {
    Setup s;
    auto responses = s.connect({"--api", "openai-responses"});
    REQUIRE(responses.code == 0);
    CHECK_THAT(responses.err, Contains("(openai-responses)"));
    auto provider = json::parse(s.read_config())["models"]["providers"]["aimo"];
    CHECK(provider["api"] == "openai-responses");
    CHECK(provider["baseUrl"] == "http://127.0.0.1:" + s.port() + "/v1");

    // The Anthropic SDK appends /v1/messages to the base URL itself.
    REQUIRE(s.connect({"--api", "anthropic-messages"}).code == 0);
    provider = json::parse(s.read_config())["models"]["providers"]["aimo"];
    CHECK(provider["api"] == "anthropic-messages");
    CHECK(provider["baseUrl"] == "http://127.0.0.1:" + s.port());
    auto doctor = s.cli.run({"doctor", "--port", s.port()});
    CHECK_THAT(doctor.out, Contains("PASS  openclaw-provider") && Contains("anthropic-messages"));

    auto wrong = s.connect({"--api", "gemini"});
    CHECK(wrong.code == 2);
    CHECK_THAT(wrong.err, Contains("--api"));
}

TEST_CASE("disconnect explains each config it cannot or need not touch", "[connect]") {
    Setup s;
    SECTION("no file") {
        auto result = s.connect({"--disconnect"});
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains("no OpenClaw config at " + s.config.string()));
        CHECK_FALSE(std::filesystem::exists(s.config));
    }
    SECTION("not an object") {
        s.write_config("[1,2,3]");
        CHECK_THAT(s.connect({"--disconnect"}).err,
                   Contains(s.config.string() + ": not a JSON object"));
        CHECK(s.read_config() == "[1,2,3]");
    }
    SECTION("read-only") {
        s.write_config(json5_config);
        s.cli.env["OPENCLAW_CONFIG_READONLY"] = "1";
        CHECK(s.connect({"--disconnect"}).code == 1);
        CHECK(s.read_config() == json5_config);
    }
    SECTION("malformed") {
        s.write_config("{ models: [ }");
        auto result = s.connect({"--disconnect"});
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains(s.config.string() + ":1:13"));
        CHECK(s.read_config() == "{ models: [ }");
    }
    SECTION("$include") {
        s.write_config(R"({"agents": {"$include": "./agents.json5"}})");
        auto result = s.connect({"--disconnect"});
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains("$include"));
    }
    SECTION("never connected") {
        s.write_config(json5_config);
        auto result = s.connect({"--disconnect"});
        CHECK(result.code == 0);
        CHECK_THAT(result.err, Contains("not connected"));
        CHECK(s.read_config() == json5_config);
    }
    SECTION("stale registries are cleaned on the way out too") {
        s.write_config(json5_config);
        auto registry = s.home / ".openclaw/agents/helper/agent/models.json";
        std::filesystem::create_directories(registry.parent_path());
        std::ofstream(registry) << R"({"providers":{"aimo":{"baseUrl":"http://old/v1"}}})";
        auto result = s.connect({"--disconnect"});
        CHECK(result.code == 0);
        CHECK_FALSE(json::parse(core::read_file(registry))["providers"].contains("aimo"));
        CHECK(s.read_config() == json5_config);
    }
}

TEST_CASE("connect takes the router's catalogue when the proxy is not running", "[connect]") {
    Setup s;
    auto result = s.cli.run({"connect", "openclaw", "--port", "1"});
    REQUIRE(result.code == 0);
    CHECK_THAT(result.err, Contains("Models from the router at " + s.router.url()));
    auto provider = json::parse(s.read_config())["models"]["providers"]["aimo"];
    CHECK(provider["baseUrl"] == "http://127.0.0.1:1/v1");
    CHECK(provider["models"].size() == 3);
    auto seen = s.router.requests();
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.back().path == "/api/v1/models");
    CHECK(seen.back().siwx.valid);
}

TEST_CASE("mutated configs give connect and doctor an error naming the file, never an abort",
          "[connect][fuzz]") {
    Setup s;
    REQUIRE(s.connect().code == 0);
    const std::string valid = s.read_config();
    const std::vector<std::string> seeds = {valid, json5_config};
    std::mt19937 random(20261201);
    const std::string alphabet("{}[]:,'\"\\/*\n \xe9\xff\xc3\x80\x00-+.0x9eIN", 31);
    for (int i = 0; i < 150; ++i) {
        auto text = test::mutate(seeds[i % seeds.size()], random, alphabet);
        s.write_config(text);
        INFO(core::printable(text));
        auto connect = s.connect({"--dry-run"});
        CHECK((connect.code == 0 || connect.code == 1));
        if (connect.code == 1) {
            CHECK_THAT(connect.err, Contains(s.config.string()));
        }
        CHECK_THAT(connect.err, !Contains("internal error"));
        auto doctor = s.cli.run({"doctor", "--json", "--port", s.port()});
        CHECK((doctor.code == 0 || doctor.code == 1));
        CHECK_THAT(doctor.err + doctor.out, !Contains("internal error"));
        CHECK(s.read_config() == text); // a dry run and a check never write
    }
}
