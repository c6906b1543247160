#include "cli_setup.hpp"
#include "fake_router.hpp"
#include "proxy_fixture.hpp"
#include "temp_dir.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
struct Setup : test::CliSetup {
    test::FakeRouter router;
    std::unique_ptr<test::ProxyFixture> proxy = std::make_unique<test::ProxyFixture>(router.url());
    const std::filesystem::path& key = keypair;
    const std::filesystem::path& config = openclaw_config;

    Setup() {
        cli.use_router(router.url());
        cli.env["AIMO_PORT"] = std::to_string(proxy->port());
    }
    void connect() { REQUIRE(cli.run({"connect", "openclaw"}).code == 0); }
    json checks() {
        auto result = cli.run({"doctor", "--json"});
        auto out = json::parse(result.out);
        CHECK(out["ok"] == (result.code == 0));
        return out["checks"];
    }
    json check(const std::string& name) {
        for (const auto& c : checks()) {
            if (c["name"] == name) {
                return c;
            }
        }
        return json();
    }
    void edit(const std::function<void(json&)>& change) {
        json config_json = json::parse(std::ifstream(config));
        change(config_json);
        std::ofstream(config) << config_json.dump(2);
    }
};
} // namespace

TEST_CASE("doctor passes on a healthy setup", "[doctor]") {
    Setup s;
    s.connect();
    auto result = s.cli.run({"doctor"});
    CHECK(result.code == 0);
    CHECK_THAT(result.out, Contains("PASS  keypair") && Contains("PASS  router") &&
                               Contains("PASS  signature") && Contains("balance: 12.50") &&
                               Contains("PASS  proxy") && Contains("PASS  openclaw-provider") &&
                               Contains("PASS  openclaw-default-model") &&
                               Contains("PASS  openclaw-allowlist") &&
                               Contains("PASS  openclaw-registries"));
    CHECK(result.out.find("FAIL") == std::string::npos);
}

TEST_CASE("doctor finds keypair problems", "[doctor]") {
    Setup s;
    SECTION("loose permissions") {
        std::filesystem::permissions(s.key, std::filesystem::perms::group_read,
                                     std::filesystem::perm_options::add);
        auto c = s.check("keypair");
        CHECK(c["status"] == "WARN");
        CHECK_THAT(c["fix"].get<std::string>(), Contains("chmod 600"));
    }
    SECTION("missing") {
        std::filesystem::remove(s.key);
        auto result = s.cli.run({"doctor"});
        CHECK(result.code == 1);
        CHECK_THAT(result.out, Contains("FAIL  keypair") && Contains("aimo keygen"));
        CHECK_THAT(result.out, Contains("WARN  signature") && Contains("skipped"));
    }
}

TEST_CASE("doctor finds router, clock and signature problems", "[doctor]") {
    Setup s;
    SECTION("unreachable") {
        s.cli.env["AIMO_ROUTER_URL"] = "http://127.0.0.1:1";
        CHECK(s.check("router")["status"] == "FAIL");
    }
    SECTION("clock off by five minutes") {
        s.router.clock_offset = std::chrono::seconds(-300);
        auto c = s.check("router");
        CHECK(c["status"] == "FAIL");
        CHECK_THAT(c["message"].get<std::string>(), Contains("ahead of the router"));
    }
    SECTION("signature rejected") {
        s.router.balance_status = 401;
        auto c = s.check("signature");
        CHECK(c["status"] == "FAIL");
        CHECK_THAT(c["message"].get<std::string>(), Contains("401"));
    }
}

TEST_CASE("doctor finds a missing or foreign proxy", "[doctor]") {
    Setup s;
    SECTION("not running") {
        int port = s.proxy->port();
        s.proxy.reset();
        s.cli.env["AIMO_PORT"] = std::to_string(port);
        auto c = s.check("proxy");
        CHECK(c["status"] == "FAIL");
        CHECK_THAT(c["fix"].get<std::string>(), Contains("aimo chat --serve"));
    }
    SECTION("another program on the port") {
        s.cli.env["AIMO_PORT"] = std::to_string(s.router.port());
        auto c = s.check("proxy");
        CHECK(c["status"] == "FAIL");
        CHECK_THAT(c["message"].get<std::string>(), Contains("something other than aimo"));
    }
}

TEST_CASE("doctor finds OpenClaw config problems", "[doctor]") {
    Setup s;
    SECTION("no config") {
        CHECK(s.check("openclaw-config")["status"] == "WARN");
    }
    SECTION("malformed") {
        std::filesystem::create_directories(s.config.parent_path());
        std::ofstream(s.config) << "{ models: }";
        auto c = s.check("openclaw-config");
        CHECK(c["status"] == "FAIL");
        CHECK_THAT(c["message"].get<std::string>(), Contains(":1:11"));
    }
    SECTION("provider missing") {
        std::filesystem::create_directories(s.config.parent_path());
        std::ofstream(s.config) << "{}";
        CHECK(s.check("openclaw-provider")["status"] == "FAIL");
    }
    SECTION("wrong port, no /v1, no api, empty key") {
        s.connect();
        for (auto breakage : std::vector<std::function<void(json&)>>{
                 [](json& c) {
                     c["models"]["providers"]["aimo"]["baseUrl"] = "http://127.0.0.1:1/v1";
                 },
                 [](json& c) {
                     c["models"]["providers"]["aimo"]["baseUrl"] = "http://127.0.0.1:1";
                 },
                 [](json& c) { c["models"]["providers"]["aimo"].erase("api"); },
                 [](json& c) { c["models"]["providers"]["aimo"]["api"] = "anthropic-messages"; },
                 [](json& c) { c["models"]["providers"]["aimo"]["apiKey"] = ""; }}) {
            s.connect();
            s.edit(breakage);
            CHECK(s.check("openclaw-provider")["status"] == "FAIL");
        }
    }
    SECTION("default model elsewhere") {
        s.connect();
        s.edit([](json& c) { c["agents"]["defaults"]["model"]["primary"] = "openai/gpt-4o"; });
        CHECK(s.check("openclaw-default-model")["status"] == "WARN");
    }
    SECTION("model not allowed") {
        s.connect();
        s.edit(
            [](json& c) { c["agents"]["defaults"]["modelPolicy"]["allow"] = {"openai/gpt-4o"}; });
        CHECK(s.check("openclaw-allowlist")["status"] == "FAIL");
    }
    SECTION("stale models.json") {
        s.connect();
        auto registry = s.home / ".openclaw/agents/main/agent/models.json";
        std::filesystem::create_directories(registry.parent_path());
        std::ofstream(registry) << R"({"providers":{"aimo":{"baseUrl":"http://old/v1"}}})";
        CHECK(s.check("openclaw-registries")["status"] == "FAIL");
    }
    SECTION("read-only flag") {
        s.connect();
        s.cli.env["OPENCLAW_CONFIG_READONLY"] = "1";
        CHECK(s.check("openclaw-readonly")["status"] == "WARN");
    }
}

TEST_CASE("doctor describes the response cache and finds an unroutable embeddings model",
          "[doctor][cache]") {
    Setup s;
    auto cache = s.check("cache");
    CHECK(cache["status"] == "PASS");
    CHECK_THAT(cache["message"].get<std::string>(), Contains("exact") &&
                                                        Contains("temperature-0 requests only") &&
                                                        Contains("cache.db"));
    s.write_config("[cache]\nmode = \"off\"\n");
    CHECK_THAT(s.check("cache")["message"].get<std::string>(), Contains("off"));
    s.write_config("[cache]\nmode = \"semantic\"\nembeddings = \"nowhere/nomic\"\n");
    cache = s.check("cache");
    CHECK(cache["status"] == "FAIL");
    CHECK_THAT(cache["message"].get<std::string>(), Contains("names no configured provider"));
}
