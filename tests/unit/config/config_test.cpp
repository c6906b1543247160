#include "config/config.hpp"
#include "config/file.hpp"
#include "core/error.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fstream>

using namespace aimo;
using Catch::Matchers::Contains;

TEST_CASE("the config file is TOML with known keys only", "[settings]") {
    test::TempDir dir;
    auto path = dir / "config.toml";

    SECTION("missing file is empty") {
        CHECK(config::ConfigFile::read(path, dir.path()).settings().empty());
    }
    SECTION("values and a relative keypair path") {
        std::ofstream(path) << "port = 9001\nrouter_url = \"http://127.0.0.1:1\"\n"
                               "keypair = \"keys/me.json\"\n";
        auto values = config::ConfigFile::read(path, dir.path()).settings();
        CHECK(values["port"] == "9001");
        CHECK(values["router_url"] == "http://127.0.0.1:1");
        CHECK(values["keypair"] == (dir / "keys/me.json").string());
    }
    SECTION("syntax errors give line and column") {
        std::ofstream(path) << "port = 9001\nrouter_url = \n";
        try {
            config::ConfigFile::read(path, dir.path()).settings();
            FAIL("expected an error");
        } catch (const core::Error& e) {
            CHECK_THAT(std::string(e.what()), Contains(path.string() + ":2:"));
        }
    }
    SECTION("unknown keys are rejected with the list of known ones") {
        std::ofstream(path) << "\nprot = 1\n";
        try {
            config::ConfigFile::read(path, dir.path()).settings();
            FAIL("expected an error");
        } catch (const core::Error& e) {
            CHECK_THAT(std::string(e.what()), Contains(":2:1: unknown setting 'prot'"));
            CHECK_THAT(e.hint(), Contains("port"));
        }
    }
    SECTION("wrong types are rejected") {
        std::ofstream(path) << "port = [1]\n";
        CHECK_THROWS_AS(config::ConfigFile::read(path, dir.path()).settings(), core::Error);
    }
}

namespace {
core::Context context_for(const std::filesystem::path& home,
                          std::map<std::string, std::string> env = {}) {
    core::Context ctx;
    env["HOME"] = home.string();
    ctx.env = [env](std::string_view name) -> std::optional<std::string> {
        auto it = env.find(std::string(name));
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    ctx.now = [] { return std::chrono::system_clock::now(); };
    return ctx;
}
} // namespace

TEST_CASE("one load gives every setting typed, and the file's tables", "[config]") {
    test::TempDir home;
    std::filesystem::create_directories(home / ".config/aimo");
    std::ofstream(home / ".config/aimo/config.toml")
        << "port = 9000\nlog_format = \"json\"\nidle_timeout = 7\n"
           "[[providers]]\nname = \"local\"\nbase_url = \"http://127.0.0.1:1/v1\"\n";
    auto ctx = context_for(home.path(), {{"AIMO_MAX_CONNECTIONS", "12"}});
    auto config = config::load(ctx, {{"drain_timeout", "3"}});
    CHECK(config.server.port == 9000);
    CHECK(config.server.log_format == proxy::LogFormat::json);
    CHECK(config.server.idle_timeout == std::chrono::seconds(7));
    CHECK(config.server.max_connections == 12);
    CHECK(config.server.drain_timeout == std::chrono::seconds(3));
    CHECK(config.router.url.origin() == "https://beta.aimo.network");
    CHECK(config.router.keypair == home / ".config/aimo/keypair.json");
    CHECK(config.database == (home / ".local/share/aimo/aimo.db").string());
    CHECK(config.sources.get("port").source == core::SettingSource::config_file);
    auto routing = config.routing(ctx.env);
    CHECK_FALSE(routing.implicit);
    REQUIRE(routing.providers.size() == 1);
    CHECK(routing.providers[0].name == "local");
}

TEST_CASE("a bad value names its origin, whatever kind it is", "[config]") {
    test::TempDir home;
    auto error_of = [&](std::map<std::string, std::string> env,
                        std::map<std::string, std::string> flags = {}) {
        try {
            config::load(context_for(home.path(), std::move(env)), flags);
        } catch (const core::Error& e) {
            return std::string(e.what()) + " | " + e.hint();
        }
        return std::string("no error");
    };
    CHECK_THAT(error_of({{"AIMO_PORT", "65536"}}),
               Contains("invalid port '65536' (from AIMO_PORT)"));
    CHECK_THAT(error_of({}, {{"header_timeout", "0"}}), Contains("(from --header-timeout)"));
    CHECK_THAT(error_of({{"AIMO_LOG_FORMAT", "xml"}}),
               Contains("unknown log format 'xml' (from AIMO_LOG_FORMAT)"));
    CHECK_THAT(error_of({{"AIMO_ROUTER_URL", "ftp://x"}}), Contains("invalid router URL"));
}

TEST_CASE("the state server comes from a flag, AIMO_STATE or the file, in that order", "[config]") {
    test::TempDir home;
    std::filesystem::create_directories(home / ".config/aimo");
    std::ofstream(home / ".config/aimo/config.toml") << "state = \"redis://file:6379/1\"\n";
    auto from_file = config::load(context_for(home.path()), {});
    REQUIRE(from_file.state);
    CHECK(from_file.state->host == "file");
    CHECK(from_file.state->db == 1);
    auto from_env =
        config::load(context_for(home.path(), {{"AIMO_STATE", "unix:///run/redis.sock"}}), {});
    REQUIRE(from_env.state);
    CHECK(from_env.state->socket == "/run/redis.sock");
    CHECK(from_env.sources.get("state").source == core::SettingSource::environment);
    auto from_flag = config::load(context_for(home.path(), {{"AIMO_STATE", "redis://env"}}),
                                  {{"state", "redis://flag:7000"}});
    REQUIRE(from_flag.state);
    CHECK(from_flag.state->host == "flag");
    CHECK(from_flag.state->port == 7000);
    try {
        config::load(context_for(home.path(), {{"AIMO_STATE", "rediss://env"}}), {});
        FAIL("rediss:// was accepted");
    } catch (const core::Error& e) {
        CHECK_THAT(e.what(), Contains("(from AIMO_STATE)"));
        CHECK_THAT(e.hint(), Contains("stunnel") && Contains("fix or remove it in AIMO_STATE"));
    }
}

TEST_CASE("port 0 serves on any free port, but nothing can connect to it", "[config]") {
    test::TempDir home;
    auto ctx = context_for(home.path());
    auto config = config::load(ctx, {{"port", "0"}});
    CHECK(config.server.port == 0);
    try {
        config::connect_port(config);
        FAIL("no error");
    } catch (const core::Error& e) {
        CHECK(e.kind() == core::ErrorKind::usage);
        CHECK_THAT(e.what(), Contains("port 0 (from --port)"));
    }
    CHECK(config::connect_port(config::load(ctx, {})) == 8080);
}
