#pragma once

// A real `aimo serve` in front of fake upstreams, for the SDK end-to-end tests, and the
// node_modules of the SDKs scripts/e2e-deps.sh installed.
#include "fake_router.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>

namespace aimo::test {

/// The node_modules holding an SDK: the AIMO_E2E_PATH entry ".../<cache dir>/node_modules/.bin"
/// less ".bin"; empty when the entry is missing.
inline std::string sdk_node_path(const std::string& cache_dir) {
    std::stringstream entries(AIMO_E2E_PATH);
    std::string entry;
    while (std::getline(entries, entry, ':')) {
        if (entry.find("/" + cache_dir + "/") != std::string::npos) {
            return entry.substr(0, entry.rfind("/.bin"));
        }
    }
    return "";
}

/// `aimo serve --port 0` with `config` as its config.toml, in a home of its own; ready once
/// constructed. `env` is what a script run against it needs (HOME, PATH, AIMO_BASE_URL …).
struct ServedAimo {
    TempDir home;
    FakeRouter router;
    std::map<std::string, std::string> env;
    std::unique_ptr<Subprocess> serve;
    std::string origin; ///< http://127.0.0.1:PORT

    /// `extra` joins the environment aimo runs in (a provider's key variable, say).
    /// `args` join `aimo serve --port 0` (--host 0.0.0.0 --require-auth, say).
    explicit ServedAimo(const std::string& config,
                        const std::map<std::string, std::string>& extra = {},
                        const std::vector<std::string>& args = {}) {
        auto key = home / "keypair.json";
        write_rfc8032_keypair(key);
        std::filesystem::create_directories(home / ".config/aimo");
        std::ofstream(home / ".config/aimo/config.toml") << config;
        env = {{"HOME", home.path().string()},
               {"PATH", std::string(AIMO_E2E_PATH) + ":/usr/local/bin:/usr/bin:/bin"},
               {"AIMO_KEYPAIR", key.string()},
               {"AIMO_ROUTER_URL", router.url()}};
        env.insert(extra.begin(), extra.end());
        std::vector<std::string> argv{AIMO_BINARY, "serve", "--port", "0"};
        argv.insert(argv.end(), args.begin(), args.end());
        serve = std::make_unique<Subprocess>(argv, env);
        REQUIRE(serve->wait_for_stderr("Ctrl-C stops"));
        std::smatch match;
        std::string banner = serve->stderr_text();
        REQUIRE(std::regex_search(banner, match, std::regex(R"(base URL: \S+:(\d+)/v1)")));
        origin = "http://127.0.0.1:" + std::string(match[1]);
        env["AIMO_BASE_URL"] = origin + "/v1";
        env["AIMO_ORIGIN"] = origin;
    }

    /// Runs tests/e2e/<script> under node with the SDK in `node_path`; its stdout as JSON.
    nlohmann::json run_script(const std::string& script, const std::string& node_path) {
        auto with = env;
        with["NODE_PATH"] = node_path;
        auto run = run_process(
            {"timeout", "60", "node", std::string(AIMO_SOURCE_DIR) + "/tests/e2e/" + script}, with);
        INFO(run.out << run.err << serve->stderr_text());
        REQUIRE(run.code == 0);
        return nlohmann::json::parse(run.out);
    }
};

} // namespace aimo::test
