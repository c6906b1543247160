// The dashboard in a real headless browser: Debian's Chromium, driven by playwright-core
// (scripts/e2e-deps.sh installs both), against a real `aimo serve`.
#include "sdk_support.hpp"

#include <filesystem>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
// Creates an agent with the CLI, as an owner would, and returns its token.
std::string create_agent(const test::ServedAimo& aimo, const std::string& name) {
    auto made =
        test::run_process({AIMO_BINARY, "agent", "create", name, "--budget", "1"}, aimo.env);
    REQUIRE(made.code == 0);
    return made.out.substr(0, made.out.find('\n'));
}

// `count` chat completions as a client makes them, each answered 200.
void make_requests(const test::ServedAimo& aimo, const std::string& token, int count) {
    for (int i = 0; i < count; ++i) {
        auto reply = test::run_process(
            {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
             "Authorization: Bearer " + token, "-H", "Content-Type: application/json", "-d",
             R"({"model":"deepseek/deepseek-v3.2","max_tokens":10,"messages":[{"role":"user","content":"hi"}]})",
             aimo.origin + "/v1/chat/completions"},
            aimo.env);
        REQUIRE(reply.out == "200");
    }
}

json drive(test::ServedAimo& aimo, const std::string& token, const std::string& owner,
           const std::string& prefix, bool beyond_loopback = false) {
    std::filesystem::create_directories(AIMO_SCREENSHOT_DIR);
    aimo.env["AIMO_TOKEN"] = token;
    aimo.env["AIMO_OWNER"] = owner;
    aimo.env["AIMO_SHOTS"] = AIMO_SCREENSHOT_DIR;
    aimo.env["AIMO_SHOT_PREFIX"] = prefix;
    aimo.env["AIMO_BEYOND_LOOPBACK"] = beyond_loopback ? "1" : "";
    return aimo.run_script("dashboard_browser.cjs", test::sdk_node_path("playwright"));
}

void check_page(const json& seen, const std::string& prefix) {
    INFO(seen.dump(2));
    CHECK(seen["errors"].empty());
    CHECK(seen["off_origin"].empty());
    CHECK(seen["title"] == "aimo dashboard");
    // The agent's bar: spent of its $1 budget, said in words as well as drawn.
    REQUIRE(seen["agents"].size() >= 1);
    CHECK(seen["agents"][0][0] == "bot");
    CHECK(seen["agents"][0][1] == "active");
    CHECK_THAT(seen["agents"][0][2].get<std::string>(), Contains("of $1.0000"));
    CHECK(seen["bar_width"].get<std::string>().back() == '%');
    // The charts and totals hold the requests made before the page opened.
    CHECK(seen["cost_bars"].get<int>() >= 1);
    CHECK(seen["request_bars"].get<int>() >= 1);
    REQUIRE(seen["totals"].size() == 1);
    CHECK(seen["totals"][0][0] == "bot");
    CHECK(seen["totals"][0][1] == "2");
    REQUIRE(seen["providers"].size() == 1);
    CHECK(seen["providers"][0][1] == "closed");
    CHECK_THAT(seen["wallet"].get<std::string>(), Contains("wallet "));
    CHECK_THAT(seen["balance"].get<std::string>(), Contains("12.50"));
    // A request that finished while the page was open shows within 2 s, without a reload.
    CHECK(seen["new_request_status"] == 200);
    CHECK(seen["requests_shown"] == seen["requests_before"].get<int>() + 1);
    CHECK(seen["update_ms"].get<int>() <= 2000);
    // Fits 360 px without sideways scrolling; follows the system's dark mode.
    CHECK(seen["narrow_overflow"] == 0);
    CHECK(seen["light_background"] != seen["dark_background"]);
    for (const char* width : {"1280.png", "360.png"}) {
        auto file = std::filesystem::path(AIMO_SCREENSHOT_DIR) / (prefix + width);
        CHECK(std::filesystem::file_size(file) > 1000);
    }
}
} // namespace

TEST_CASE("the dashboard shows agents, charts and new requests live, read-only by default",
          "[e2e][ui]") {
    REQUIRE_FALSE(test::sdk_node_path("playwright").empty());
    test::ServedAimo aimo("");
    auto token = create_agent(aimo, "bot");
    make_requests(aimo, token, 2);
    auto seen = drive(aimo, token, "", "dashboard-");
    check_page(seen, "dashboard-");
    CHECK(seen["owner_visible"] == false);
}

TEST_CASE("with ui_admin the dashboard's owner creates and revokes an agent, audited",
          "[e2e][ui]") {
    REQUIRE_FALSE(test::sdk_node_path("playwright").empty());
    test::ServedAimo aimo("ui_admin = true\n");
    std::smatch match;
    std::string banner = aimo.serve->stderr_text();
    REQUIRE(
        std::regex_search(banner, match, std::regex(R"(owner secret [^:]*: (aimo_owner_\w+))")));
    std::string secret = match[1];
    auto token = create_agent(aimo, "bot");
    make_requests(aimo, token, 2);
    auto seen = drive(aimo, token, secret, "dashboard-owner-");
    check_page(seen, "dashboard-owner-");
    CHECK(seen["owner_visible"] == true);
    CHECK_THAT(seen["wrong_secret"].get<std::string>(),
               Contains("refused") && Contains("owner secret is wrong"));
    CHECK(seen["created"] == "agent web created");
    CHECK_THAT(seen["created_token"].get<std::string>(), Contains("aimo_"));
    CHECK(seen["revoked"] == "agent web revoked");

    auto audit = test::run_process({AIMO_BINARY, "audit", "owner", "--json"}, aimo.env);
    REQUIRE(audit.code == 0);
    std::stringstream lines(audit.out);
    std::vector<json> actions;
    for (std::string line; std::getline(lines, line);) {
        actions.push_back(json::parse(line));
    }
    REQUIRE(actions.size() == 2);
    CHECK(actions[0]["action"] == "create");
    CHECK(actions[0]["agent"] == "web");
    CHECK(actions[0]["detail"]["budget_usd"] == 2.5);
    CHECK(actions[1]["action"] == "revoke");
    auto verify = test::run_process({AIMO_BINARY, "audit", "verify"}, aimo.env);
    CHECK(verify.code == 0);
    CHECK_THAT(verify.out, Contains("and 2 owner actions"));
}

TEST_CASE("beyond loopback the dashboard is refused without an agent's token", "[e2e][ui]") {
    REQUIRE_FALSE(test::sdk_node_path("playwright").empty());
    // Listening on every address, as a team's shared instance does; the test still talks to it
    // over 127.0.0.1 only.
    test::ServedAimo aimo("", {}, {"--host", "0.0.0.0", "--require-auth"});
    auto token = create_agent(aimo, "bot");
    make_requests(aimo, token, 2);
    auto seen = drive(aimo, token, "", "dashboard-token-", true);
    INFO(seen.dump(2));
    CHECK(seen["refused_status"] == 401);
    CHECK_THAT(seen["refused_text"].get<std::string>(), Contains("missing_api_key"));
    check_page(seen, "dashboard-token-");
    CHECK(seen["owner_visible"] == false);
}
