// The curl one-liner, for real: a release built from this tree, served on a loopback port,
// piped into dash with a temporary HOME.
#include "core/fs.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"
#include "test_server.hpp"

#include <catch2/catch.hpp>
#include <fstream>

using namespace aimo;
using Catch::Matchers::Contains;

namespace {
const std::string source_dir = AIMO_SOURCE_DIR;
const std::string original_rc = "# my bashrc\nalias ll='ls -l'\n";

void release(const std::filesystem::path& out, const std::string& version = "") {
    std::vector<std::string> argv = {"bash",        source_dir + "/scripts/release.sh",
                                     "--build-dir", AIMO_BUILD_DIR,
                                     "--out",       out.string()};
    if (!version.empty()) {
        argv.insert(argv.end(), {"--version", version});
    }
    auto result = test::run_process(argv, {{"PATH", "/usr/bin:/bin"}});
    INFO(result.err);
    REQUIRE(result.code == 0);
}

TEST_CASE("a release archive holds the binary and completions and man page", "[install]") {
    test::TempDir dist;
    release(dist.path());
    std::string archive;
    for (const auto& entry : std::filesystem::directory_iterator(dist.path())) {
        if (entry.path().extension() == ".gz") {
            archive = entry.path().string();
        }
    }
    REQUIRE_FALSE(archive.empty());
    auto listing = test::run_process({"tar", "tzf", archive}, {{"PATH", "/usr/bin:/bin"}});
    std::string root = std::filesystem::path(archive).stem().stem().string() + "/";
    for (const char* path :
         {"bin/aimo", "share/bash-completion/completions/aimo", "share/zsh/site-functions/_aimo",
          "share/fish/vendor_completions.d/aimo.fish", "share/man/man1/aimo.1", "README.md"}) {
        CAPTURE(path);
        CHECK_THAT(listing.out, Contains(root + path + "\n"));
    }
    CHECK(core::read_file(archive + ".sha256")
              .find(std::filesystem::path(archive).filename().string()) != std::string::npos);
    CHECK(core::read_file(dist / "latest") == "0.1.0\n");
    CHECK(core::read_file(dist / "install.sh") == core::read_file(source_dir + "/install.sh"));
}

struct Served {
    test::TempDir dist;
    std::unique_ptr<test::TestServer> server;
    Served() {
        release(dist.path());
        auto http = std::make_unique<httplib::Server>();
        http->set_mount_point("/", dist.path().string());
        server = std::make_unique<test::TestServer>(std::move(http));
    }
};

struct Home {
    test::TempDir dir;
    Home() { std::ofstream(dir / ".bashrc") << original_rc; }
    std::filesystem::path binary() const { return dir / ".aimo/bin/aimo"; }
    std::string rc() const { return core::read_file(dir / ".bashrc"); }
};

test::ProcessResult one_liner(const Served& served, const Home& home,
                              const std::string& args = "-y", const std::string& path = "") {
    std::string url = served.server->url();
    return test::run_process({"sh", "-c", "curl -fsSL " + url + "/install.sh | dash -s -- " + args},
                             {{"HOME", home.dir.path().string()},
                              {"SHELL", "/bin/bash"},
                              {"PATH", path.empty() ? "/usr/bin:/bin" : path + ":/usr/bin:/bin"},
                              {"AIMO_DOWNLOAD_URL", url}});
}

size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t pos = 0; (pos = text.find(needle, pos)) != std::string::npos; ++pos) {
        ++n;
    }
    return n;
}
} // namespace

TEST_CASE("the one-liner installs, upgrades and uninstalls cleanly", "[install]") {
    Served served;
    Home home;
    auto first = one_liner(served, home);
    INFO(first.out << first.err);
    REQUIRE(first.code == 0);
    CHECK_THAT(first.out, Contains("aimo 0.1.0 is ready") && Contains("aimo keygen") &&
                              Contains("aimo chat --serve") && Contains("aimo connect openclaw"));
    auto version = test::run_process({home.binary().string(), "--version"}, {});
    CHECK(version.out == "aimo 0.1.0\n");
    CHECK(count(home.rc(), home.dir.path().string() + "/.aimo/bin") == 1);

    release(served.dist.path(), "9.9.9"); // a newer release becomes latest
    auto upgrade = one_liner(served, home);
    INFO(upgrade.out << upgrade.err);
    REQUIRE(upgrade.code == 0);
    CHECK_THAT(upgrade.out, Contains("aimo-9.9.9-linux-"));
    CHECK(count(home.rc(), "added by the aimo installer") == 1);
    CHECK(std::filesystem::directory_iterator(home.dir / ".aimo/bin")->path() == home.binary());

    auto pinned = one_liner(served, home, "-y --version 0.1.0 --no-modify-path");
    CHECK(pinned.code == 0);
    CHECK_THAT(pinned.out, Contains("aimo-0.1.0-linux-"));

    auto removed = one_liner(served, home, "--uninstall");
    INFO(removed.out << removed.err);
    CHECK(removed.code == 0);
    CHECK_FALSE(std::filesystem::exists(home.binary()));
    CHECK(home.rc() == original_rc);
}

TEST_CASE("a tampered archive is refused and nothing is installed", "[install]") {
    Served served;
    for (const auto& entry : std::filesystem::directory_iterator(served.dist.path())) {
        if (entry.path().extension() == ".gz") {
            std::ofstream(entry.path(), std::ios::app) << "tampered";
        }
    }
    Home home;
    auto result = one_liner(served, home);
    CHECK(result.code == 1);
    CHECK_THAT(result.err, Contains("checksum mismatch") && Contains("nothing was installed"));
    CHECK_FALSE(std::filesystem::exists(home.dir / ".aimo"));
    CHECK(home.rc() == original_rc);
}

TEST_CASE("unsupported systems and bad options are explained", "[install]") {
    Served served;
    Home home;
    test::TempDir bin;
    std::ofstream(bin / "uname") << "#!/bin/sh\n[ \"$1\" = -s ] && echo Darwin || echo arm64\n";
    std::filesystem::permissions(bin / "uname", std::filesystem::perms::owner_all);
    auto mac = one_liner(served, home, "-y", bin.path().string());
    CHECK(mac.code == 1);
    CHECK_THAT(mac.err, Contains("Linux only") && Contains("Darwin"));

    auto bad = one_liner(served, home, "--frobnicate");
    CHECK(bad.code == 1);
    CHECK_THAT(bad.err, Contains("unknown option '--frobnicate'"));
    CHECK_FALSE(std::filesystem::exists(home.dir / ".aimo"));
}

TEST_CASE("file:// URLs, a custom install dir, quiet mode and help work", "[install]") {
    test::TempDir dist;
    release(dist.path());
    Home home;
    std::map<std::string, std::string> env = {
        {"HOME", home.dir.path().string()},
        {"SHELL", "/bin/zsh"},
        {"PATH", "/usr/bin:/bin"},
        {"AIMO_DOWNLOAD_URL", "file://" + dist.path().string()},
        {"AIMO_INSTALL_DIR", (home.dir / "tools").string()}};
    auto quiet = test::run_process({"dash", (dist / "install.sh").string(), "-y", "-q"}, env);
    INFO(quiet.err);
    CHECK(quiet.code == 0);
    CHECK(quiet.out.empty());
    CHECK(std::filesystem::exists(home.dir / "tools/aimo"));
    CHECK(count(core::read_file(home.dir / ".zshrc"), (home.dir / "tools").string()) == 1);
    CHECK(home.rc() == original_rc); // zsh users' .bashrc is not touched

    auto help = test::run_process({"dash", (dist / "install.sh").string(), "--help"}, env);
    CHECK(help.code == 0);
    CHECK_THAT(help.out, Contains("--no-modify-path") && Contains("AIMO_INSTALL_DIR"));
}

TEST_CASE("questions are asked on the terminal and answered there", "[install]") {
    test::TempDir dist;
    release(dist.path());
    Home home;
    std::map<std::string, std::string> env = {
        {"HOME", home.dir.path().string()},
        {"SHELL", "/bin/bash"},
        {"PATH", "/usr/bin:/bin"},
        {"AIMO_DOWNLOAD_URL", "file://" + dist.path().string()}};
    // `script` gives the installer a real terminal; "n" declines the PATH change.
    auto declined = test::run_process(
        {"script", "-qec", "dash " + (dist / "install.sh").string(), "/dev/null"}, env, "n\n");
    INFO(declined.out << declined.err);
    CHECK(declined.code == 0);
    CHECK_THAT(declined.out, Contains("Add " + (home.dir / ".aimo/bin").string() + " to PATH"));
    CHECK(std::filesystem::exists(home.binary()));
    CHECK(home.rc() == original_rc);

    auto accepted = test::run_process(
        {"script", "-qec", "dash " + (dist / "install.sh").string(), "/dev/null"}, env, "y\n");
    CHECK(accepted.code == 0);
    CHECK(count(home.rc(), "added by the aimo installer") == 1);
}
