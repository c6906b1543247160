#include "cli_setup.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace aimo;
using Catch::Matchers::Contains;

namespace {
struct Setup : test::CliSetup {
    const std::filesystem::path& file = config_file;
    void write(const std::string& text) { write_config(text); }
};
} // namespace

TEST_CASE("config path prints where the file is, even before it exists", "[config]") {
    Setup s;
    auto result = s.cli.run({"config", "path"});
    CHECK(result.code == 0);
    CHECK(result.out == s.file.string() + "\n");
    CHECK_THAT(result.err, Contains("does not exist yet"));
}

TEST_CASE("config show says where every value comes from", "[config]") {
    Setup s;
    s.write("port = 9000\nlog_format = \"json\"\nhost = \"10.0.0.1\"\n");
    s.cli.env["AIMO_HOST"] = "0.0.0.0";
    s.cli.env["AIMO_LOG_FORMAT"] = "off";
    auto text = s.cli.run({"config", "show", "--log-format", "text"});
    REQUIRE(text.code == 0);
    CHECK_THAT(text.out, Contains("port") && Contains("9000  [config file (" + s.file.string()));
    CHECK_THAT(text.out, Contains("0.0.0.0  [environment (AIMO_HOST)]"));
    CHECK_THAT(text.out, Contains("text  [flag (--log-format)]"));
    CHECK_THAT(text.out, Contains("https://beta.aimo.network  [default]"));

    auto json = nlohmann::json::parse(s.cli.run({"config", "show", "--json"}).out);
    CHECK(json["port"]["value"] == "9000");
    CHECK(json["port"]["source"] == "config file");
    CHECK(json["host"]["origin"] == "AIMO_HOST");
    CHECK(json["log_format"]["value"] == "off");
    CHECK(json["router_url"]["source"] == "default");
}

TEST_CASE("config check validates the file and every value", "[config]") {
    Setup s;
    SECTION("no file") {
        auto result = s.cli.run({"config", "check"});
        CHECK(result.code == 0);
        CHECK_THAT(result.out, Contains("defaults apply"));
    }
    SECTION("valid") {
        s.write("port = 9000\nrouter_url = \"http://127.0.0.1:1\"\n");
        auto result = s.cli.run({"config", "check"});
        CHECK(result.code == 0);
        CHECK_THAT(result.out, Contains("ok: " + s.file.string()));
    }
    SECTION("syntax error with line and column") {
        s.write("port = 9000\nlog_format = json\n");
        auto result = s.cli.run({"config", "check"});
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains(s.file.string() + ":2:"));
    }
    SECTION("value out of range") {
        s.write("port = 99999\n");
        auto result = s.cli.run({"config", "check"});
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains("invalid port '99999' (from " + s.file.string()));
    }
    SECTION("meaningless value") {
        s.write("router_url = \"ftp://x\"\nlog_format = \"xml\"\n");
        auto result = s.cli.run({"config", "check"});
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains("invalid router URL") && Contains(s.file.string()));
    }
    SECTION("unknown key") {
        s.write("prot = 1\n");
        auto result = s.cli.run({"config", "check"});
        CHECK(result.code == 1);
        CHECK_THAT(result.err, Contains("unknown setting 'prot'") && Contains("hint: known"));
    }
}
