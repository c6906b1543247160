#include "core/settings.hpp"
#include "scripted_server.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <sys/socket.h>

using namespace aimo;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;

namespace {
test::ProcessResult aimo_run(const std::vector<std::string>& args, const test::TempDir& home) {
    std::vector<std::string> argv = {AIMO_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return test::run_process(argv, {{"HOME", home.path().string()}, {"PATH", "/usr/bin:/bin"}});
}
} // namespace

TEST_CASE("the version flag prints the version", "[main]") {
    test::TempDir home;
    auto result = aimo_run({"--version"}, home);
    CHECK(result.code == 0);
    CHECK(result.out == std::string("aimo ") + AIMO_VERSION + "\n");
}

TEST_CASE("help flags and help <command> describe the commands", "[main]") {
    test::TempDir home;
    auto help = aimo_run({"--help"}, home);
    CHECK(help.code == 0);
    CHECK_THAT(help.out, Contains("keygen") && Contains("address"));

    auto keygen_help = aimo_run({"help", "keygen"}, home);
    CHECK(keygen_help.code == 0);
    CHECK_THAT(keygen_help.out, Contains("--force") && Contains("--keypair"));
    CHECK(aimo_run({"keygen", "--help"}, home).out == keygen_help.out);

    auto nested = aimo_run({"help", "connect", "openclaw"}, home);
    CHECK(nested.code == 0);
    CHECK_THAT(nested.out, Contains("Usage: aimo connect openclaw") && Contains("--disconnect"));
    CHECK_THAT(aimo_run({"help", "keygen"}, home).out, Contains("Usage: aimo keygen"));

    auto unknown_topic = aimo_run({"help", "nope"}, home);
    CHECK(unknown_topic.code == 2);
    CHECK_THAT(unknown_topic.err, StartsWith("aimo: error: unknown command 'nope'"));
}

TEST_CASE("an unknown command or flag is a usage error with a hint", "[main]") {
    test::TempDir home;
    auto command = aimo_run({"frobnicate"}, home);
    CHECK(command.code == 2);
    CHECK(command.out.empty());
    CHECK_THAT(command.err, StartsWith("aimo: error: unknown command 'frobnicate'"));
    CHECK_THAT(command.err, Contains("hint: run 'aimo --help'"));

    auto flag = aimo_run({"keygen", "--bogus"}, home);
    CHECK(flag.code == 2);
    CHECK_THAT(flag.err, StartsWith("aimo: error:") && Contains("--bogus"));
    CHECK_THAT(flag.err, Contains("aimo help keygen"));
}

TEST_CASE("errors are not coloured when stderr is not a terminal", "[main]") {
    test::TempDir home;
    auto result = aimo_run({"address"}, home);
    CHECK(result.code == 1);
    CHECK(result.err.find('\033') == std::string::npos);
}

TEST_CASE("serve and chat accept a flag for every setting", "[main]") {
    test::TempDir home;
    for (const char* command : {"serve", "chat"}) {
        auto help = aimo_run({"help", command}, home);
        REQUIRE(help.code == 0);
        for (const auto& spec : core::setting_specs()) {
            CAPTURE(command, spec.flag);
            CHECK_THAT(help.out, Contains(std::string(spec.flag)));
        }
    }
}

TEST_CASE("Ctrl-C during a command ends it with status 130", "[main]") {
    test::TempDir home;
    test::write_rfc8032_keypair(home / "key.json");
    // A router that accepts the request and never answers keeps list-models waiting.
    test::ScriptedServer silent([](int fd, int) {
        test::ScriptedServer::read_request(fd);
        char c;
        recv(fd, &c, 1, 0);
    });
    test::Subprocess command({AIMO_BINARY, "list-models", "--router-url", silent.url(), "--keypair",
                              (home / "key.json").string()},
                             {{"HOME", home.path().string()}});
    REQUIRE(silent.wait_accepted(1));
    command.signal(SIGINT);
    CHECK(command.wait() == 130);
}
