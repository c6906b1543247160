#include "cli_harness.hpp"

#include "cli.hpp"
#include "vectors.hpp"

namespace aimo::test {

CliHarness::CliHarness(std::filesystem::path home_path)
    : now(std::chrono::system_clock::now()), home(std::move(home_path)) {
    env["HOME"] = home.string();
    env["AIMO_CONFIG_DIR"] = (home / ".config/aimo").string();
}

CliResult CliHarness::run(const std::vector<std::string>& args, const std::string& input) {
    std::ostringstream out;
    std::ostringstream err;
    std::istringstream in(input);
    core::Context ctx;
    ctx.env = [this](std::string_view name) -> std::optional<std::string> {
        auto it = env.find(std::string(name));
        if (it == env.end()) {
            return std::nullopt;
        }
        return it->second;
    };
    ctx.now = [this] { return now; };
    ctx.out = &out;
    ctx.err = &err;
    ctx.in = &in;
    CliResult result;
    result.code = commands::run_cli(ctx, args);
    result.out = out.str();
    result.err = err.str();
    return result;
}

void CliHarness::use_router(const std::string& router_url) {
    write_rfc8032_keypair(home / ".config/aimo/keypair.json");
    env["AIMO_ROUTER_URL"] = router_url;
    env["PATH"] = "/usr/bin:/bin";
}

} // namespace aimo::test
