#include "cli.hpp"
#include "cli_harness.hpp"
#include "core/fs.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace aimo;

namespace {
std::string script(const std::string& name) {
    return core::read_file(std::string(AIMO_SOURCE_DIR) + "/completions/" + name);
}

std::string complete_bash(const std::string& words, int cword) {
    auto result = test::run_process({"bash", "-c",
                                     "source '" + std::string(AIMO_SOURCE_DIR) +
                                         "/completions/aimo.bash'; COMP_WORDS=(" + words +
                                         "); COMP_CWORD=" + std::to_string(cword) +
                                         "; _aimo; printf '%s\\n' \"${COMPREPLY[*]}\""},
                                    {{"PATH", "/usr/bin:/bin"}});
    REQUIRE(result.code == 0);
    return result.out;
}
} // namespace

TEST_CASE("every command and long option is in every completion script", "[completion]") {
    const auto bash = script("aimo.bash");
    const auto zsh = script("_aimo");
    const auto fish = script("aimo.fish");
    auto tree = commands::describe_cli();
    REQUIRE(tree.size() > 10);
    for (const auto& node : tree) {
        for (const auto& sub : node.subcommands) {
            CAPTURE(node.path, sub);
            CHECK(bash.find(sub) != std::string::npos);
            CHECK(zsh.find(sub) != std::string::npos);
            CHECK(fish.find(sub) != std::string::npos);
        }
        for (const auto& option : node.long_options) {
            CAPTURE(node.path, option);
            CHECK(bash.find("--" + option) != std::string::npos);
            CHECK(zsh.find("--" + option) != std::string::npos);
            CHECK(fish.find("-l " + option) != std::string::npos);
        }
    }
}

TEST_CASE("bash completes commands and subcommands", "[completion]") {
    // `config` (issue 6) shares the prefix, so `con` offers both and `conn` only connect.
    CHECK(complete_bash("aimo con", 1) == "connect config\n");
    CHECK(complete_bash("aimo conn", 1) == "connect\n");
    CHECK(complete_bash("aimo connect ''", 2) == "openclaw claude-code codex\n");
    CHECK(complete_bash("aimo connect codex --pro", 3) == "--profile\n");
    CHECK(complete_bash("aimo router g", 2) == "get-balance\n");
    CHECK(complete_bash("aimo connect openclaw --dis", 3) == "--disconnect\n");
    CHECK(complete_bash("aimo serve --port 80 --log-format j", 5) == "json\n");
    CHECK(complete_bash("aimo completion ''", 2) == "bash zsh fish\n");
    CHECK(complete_bash("aimo config ''", 2) == "path show check\n");
}

TEST_CASE("aimo completion prints the matching script", "[completion]") {
    test::TempDir home;
    test::CliHarness cli(home.path());
    CHECK(cli.run({"completion", "bash"}).out == script("aimo.bash"));
    CHECK(cli.run({"completion", "zsh"}).out == script("_aimo"));
    CHECK(cli.run({"completion", "fish"}).out == script("aimo.fish"));
    auto bad = cli.run({"completion", "tcsh"});
    CHECK(bad.code == 2);
}
