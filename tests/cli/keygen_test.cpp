#include "cli_harness.hpp"
#include "core/fs.hpp"
#include "core/text.hpp"
#include "mutate.hpp"
#include "temp_dir.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

using namespace aimo;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

TEST_CASE("keygen writes a keypair to the config dir and prints address and path", "[keygen]") {
    test::TempDir home;
    test::CliHarness cli(home.path());
    auto result = cli.run({"keygen"});
    REQUIRE(result.code == 0);
    auto path = home / ".config/aimo/keypair.json";
    CHECK_THAT(result.out, Contains("path:    " + path.string()));
    CHECK(core::file_mode(path) == 0600);

    auto address = cli.run({"address"});
    CHECK(address.code == 0);
    CHECK_THAT(result.out, Contains("address: " + address.out.substr(0, address.out.size() - 1)));
    CHECK(address.out.size() >= 33);
}

TEST_CASE("keygen --json prints address and path as JSON", "[keygen]") {
    test::TempDir home;
    test::CliHarness cli(home.path());
    auto result = cli.run({"keygen", "--json", "--keypair", (home / "k.json").string()});
    REQUIRE(result.code == 0);
    auto json = nlohmann::json::parse(result.out);
    CHECK(json["path"] == (home / "k.json").string());
    CHECK(cli.run({"address", "--keypair", (home / "k.json").string()}).out ==
          json["address"].get<std::string>() + "\n");
}

TEST_CASE("keygen refuses to overwrite without --force and keeps the old key", "[keygen]") {
    test::TempDir home;
    test::CliHarness cli(home.path());
    REQUIRE(cli.run({"keygen"}).code == 0);
    auto before = cli.run({"address"}).out;

    auto again = cli.run({"keygen"});
    CHECK(again.code == 1);
    CHECK_THAT(again.err, StartsWith("aimo: error: a keypair already exists at"));
    CHECK_THAT(again.err, Contains("hint:") && Contains("--force"));
    CHECK(cli.run({"address"}).out == before);

    CHECK(cli.run({"keygen", "--force"}).code == 0);
    CHECK(cli.run({"address"}).out != before);
}

TEST_CASE("the keypair path follows flag > AIMO_KEYPAIR > config file > default", "[keygen]") {
    test::TempDir home;
    test::CliHarness cli(home.path());
    std::filesystem::create_directories(home / ".config/aimo");
    std::ofstream(home / ".config/aimo/config.toml") << "keypair = \"from-file.json\"\n";

    REQUIRE(cli.run({"keygen"}).code == 0);
    CHECK(std::filesystem::exists(home / ".config/aimo/from-file.json"));

    cli.env["AIMO_KEYPAIR"] = (home / "from-env.json").string();
    REQUIRE(cli.run({"keygen"}).code == 0);
    CHECK(std::filesystem::exists(home / "from-env.json"));

    REQUIRE(cli.run({"keygen", "--keypair", (home / "from-flag.json").string()}).code == 0);
    CHECK(std::filesystem::exists(home / "from-flag.json"));
}

TEST_CASE("XDG_CONFIG_HOME is used when AIMO_CONFIG_DIR is unset", "[keygen]") {
    test::TempDir home;
    test::CliHarness cli(home.path());
    cli.env.erase("AIMO_CONFIG_DIR");
    cli.env["XDG_CONFIG_HOME"] = (home / "xdg").string();
    REQUIRE(cli.run({"keygen"}).code == 0);
    CHECK(std::filesystem::exists(home / "xdg/aimo/keypair.json"));
    cli.env.erase("XDG_CONFIG_HOME");
    REQUIRE(cli.run({"keygen"}).code == 0);
    CHECK(std::filesystem::exists(home / ".config/aimo/keypair.json"));
}

TEST_CASE("address explains a missing or broken keypair", "[address]") {
    test::TempDir home;
    test::CliHarness cli(home.path());
    auto missing = cli.run({"address"});
    CHECK(missing.code == 1);
    CHECK(missing.out.empty());
    CHECK_THAT(missing.err, Contains("aimo: error: no keypair at") && Contains("aimo keygen"));

    std::filesystem::create_directories(home / ".config/aimo");
    std::ofstream(home / ".config/aimo/keypair.json") << "[1,2,3]";
    auto broken = cli.run({"address"});
    CHECK(broken.code == 1);
    CHECK_THAT(broken.err, Contains("holds 3 numbers; expected 64"));
}

TEST_CASE("address prints the RFC 8032 address and warns about loose permissions", "[address]") {
    test::TempDir home;
    test::CliHarness cli(home.path());
    auto path = home / "k.json";
    std::ofstream(path) << test::rfc8032_keypair().to_file_json();
    chmod(path.c_str(), 0644);
    auto result = cli.run({"address", "--keypair", path.string()});
    CHECK(result.code == 0);
    CHECK(result.out == std::string(test::rfc8032_address) + "\n");
    CHECK_THAT(result.err, Contains("aimo: warning:") && Contains("chmod 600"));
}

TEST_CASE("mutated keypair files are refused with an error naming the file, never an abort",
          "[address][fuzz]") {
    test::TempDir home;
    test::CliHarness cli(home.path());
    auto path = home / "k.json";
    const std::string valid = test::rfc8032_keypair().to_file_json();
    std::mt19937 random(1201);
    const std::string alphabet("[],-0123456789e.\" \xff\xc3{}tn", 25);
    int accepted = 0;
    for (int i = 0; i < 300; ++i) {
        auto text = test::mutate(valid, random, alphabet);
        std::ofstream(path, std::ios::trunc) << text;
        chmod(path.c_str(), 0600);
        auto result = cli.run({"address", "--keypair", path.string()});
        INFO(core::printable(text));
        REQUIRE((result.code == 0 || result.code == 1));
        if (result.code == 0) {
            // Only a file that still holds the same 64 bytes may be accepted.
            CHECK(result.out == std::string(test::rfc8032_address) + "\n");
            ++accepted;
        } else {
            CHECK_THAT(result.err, Contains("aimo: error: keypair file " + path.string()));
            CHECK_THAT(result.err, !Contains("internal error"));
        }
    }
    CHECK(accepted < 300);
}
