#include "cli_setup.hpp"
#include "core/fs.hpp"
#include "fake_router.hpp"
#include "http_helpers.hpp"
#include "scripted_server.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>

using namespace aimo;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using nlohmann::json;

namespace {
struct ServeSetup : test::CliSetup {
    std::map<std::string, std::string> env = CliSetup::env();
    ServeSetup() { test::write_rfc8032_keypair(home / "key.json"); }
    std::string key() const { return (home / "key.json").string(); }
};

bool refuses_connections(int port) {
    int fd = test::connect_loopback(port);
    if (fd >= 0) {
        close(fd);
    }
    return fd < 0;
}
} // namespace

TEST_CASE("serve prints a banner, answers, and exits 0 on SIGTERM or SIGINT", "[serve]") {
    ServeSetup s;
    test::FakeRouter router;
    auto command =
        GENERATE(std::vector<std::string>{"serve"}, std::vector<std::string>{"chat", "--serve"});
    int sig = GENERATE(SIGTERM, SIGINT);
    auto args = command;
    args.insert(args.end(), {"--port", "0", "--router-url", router.url(), "--keypair", s.key()});
    test::Subprocess server(s.argv(args), s.env);
    REQUIRE(server.wait_for_stderr("Ctrl-C stops"));
    auto banner = server.stderr_text();
    CHECK_THAT(banner, Contains(test::rfc8032_address) && Contains(router.url()));
    int port = test::banner_port(banner);

    CHECK(test::http_get(port, "/health").status == 200);
    auto reply = test::http_post(port, "/v1/chat/completions", R"({"model":"m"})");
    CHECK(reply.status == 200);
    CHECK(router.requests().at(0).siwx.valid);

    server.signal(sig);
    CHECK(server.wait() == 0);
    CHECK_THAT(server.stderr_text(), Contains("POST /v1/chat/completions model=m status=200"));
}

TEST_CASE("on SIGTERM in-flight streams finish while new connections are refused", "[serve]") {
    ServeSetup s;
    test::FakeRouter router;
    router.stream_with_gate("data: {\"n\":1}\n\n", "data: [DONE]\n\n");
    test::Subprocess server(
        s.argv({"serve", "--port", "0", "--router-url", router.url(), "--keypair", s.key()}),
        s.env);
    REQUIRE(server.wait_for_stderr("Ctrl-C stops"));
    int port = test::banner_port(server.stderr_text());

    test::Reply reply;
    std::thread client([&] {
        reply = test::http_post(port, "/v1/chat/completions", R"({"model":"m","stream":true})", {},
                                {}, 30);
    });
    REQUIRE(router.wait_waiting(1));
    server.signal(SIGTERM);
    bool refused = false;
    for (int i = 0; i < 2000 && !refused; ++i) {
        refused = refuses_connections(port);
        if (!refused) {
            std::this_thread::yield();
        }
    }
    CHECK(refused);
    router.open_gate();
    client.join();
    CHECK(reply.status == 200);
    CHECK(reply.body == "data: {\"n\":1}\n\ndata: [DONE]\n\n");
    CHECK(server.wait() == 0);
}

TEST_CASE("at the drain timeout what is still running hears why, then is closed", "[serve]") {
    ServeSetup s;
    test::FakeRouter router;
    bool streaming = false;
    SECTION("a request still waiting for its answer gets a 503") {
        router.on_completion = [&](const httplib::Request&, httplib::Response& res) {
            router.wait_gate(20000);
            res.set_content("{}", "application/json");
        };
    }
    SECTION("a stream gets an SSE error event and a proper end") {
        router.stream_with_gate("data: {\"n\":1}\n\n", "data: [DONE]\n\n");
        streaming = true;
    }
    test::Subprocess server(s.argv({"serve", "--port", "0", "--router-url", router.url(),
                                    "--keypair", s.key(), "--drain-timeout", "1"}),
                            s.env);
    REQUIRE(server.wait_for_stderr("Ctrl-C stops"));
    int port = test::banner_port(server.stderr_text());
    test::Reply reply;
    std::thread client([&] {
        reply = test::http_post(port, "/v1/chat/completions", R"({"model":"m","stream":true})", {},
                                {}, 30);
    });
    REQUIRE(router.wait_waiting(1));
    server.signal(SIGTERM);
    CHECK(server.wait() == 0);
    CHECK_THAT(server.stderr_text(), Contains("drain timeout"));
    client.join();
    router.open_gate();
    if (!streaming) {
        CHECK(reply.status == 503);
        CHECK(json::parse(reply.body)["error"]["code"] == "server_shutting_down");
    } else {
        REQUIRE(reply.status == 200);
        CHECK_THAT(reply.body, StartsWith("data: {\"n\":1}\n\n"));
        CHECK_THAT(reply.body, Contains("\"code\":\"server_shutting_down\""));
        CHECK_THAT(reply.body, !Contains("[DONE]"));
    }
}

TEST_CASE("serve refuses to start without a valid keypair", "[serve]") {
    ServeSetup s;
    auto missing = test::run_process(
        s.argv({"serve", "--port", "0", "--keypair", (s.home / "none.json").string()}), s.env);
    CHECK(missing.code == 1);
    CHECK_THAT(missing.err, Contains("aimo: error: no keypair at") && Contains("aimo keygen"));
    CHECK(missing.err.find("base URL") == std::string::npos);

    std::ofstream(s.home / "bad.json") << "[1,2]";
    auto bad = test::run_process(
        s.argv({"serve", "--port", "0", "--keypair", (s.home / "bad.json").string()}), s.env);
    CHECK(bad.code == 1);
    CHECK_THAT(bad.err, Contains("expected 64"));
}

TEST_CASE("serve explains a port in use and bad settings", "[serve]") {
    ServeSetup s;
    auto busy = [&] {
        test::ScriptedServer taken([](int, int) {}); // another program on the port
        return test::run_process(
            s.argv({"serve", "--port", std::to_string(taken.port()), "--keypair", s.key()}), s.env);
    }();
    CHECK(busy.code == 1);
    CHECK_THAT(busy.err, Contains("port is already in use") && Contains("--port"));

    auto env = s.env;
    env["AIMO_PORT"] = "eighty";
    auto bad_port = test::run_process(s.argv({"serve", "--keypair", s.key()}), env);
    CHECK(bad_port.code == 1);
    CHECK_THAT(bad_port.err, Contains("invalid port 'eighty' (from AIMO_PORT)"));

    auto bad_format =
        test::run_process(s.argv({"serve", "--keypair", s.key(), "--log-format", "xml"}), s.env);
    CHECK(bad_format.code == 2);
    CHECK_THAT(bad_format.err, Contains("unknown log format 'xml'"));
}

TEST_CASE("serving beyond loopback needs authentication or an explicit risk", "[serve]") {
    ServeSetup s;
    test::FakeRouter router;
    auto refused = test::run_process(s.argv({"serve", "--host", "0.0.0.0", "--port", "0",
                                             "--router-url", router.url(), "--keypair", s.key()}),
                                     s.env);
    CHECK(refused.code == 2);
    CHECK_THAT(refused.err, Contains("refusing to listen on 0.0.0.0 without authentication") &&
                                Contains("--insecure-no-auth"));

    test::Subprocess guarded(s.argv({"serve", "--host", "0.0.0.0", "--port", "0", "--router-url",
                                     router.url(), "--keypair", s.key(), "--require-auth"}),
                             s.env);
    REQUIRE(guarded.wait_for_stderr("Ctrl-C stops"));
    CHECK(guarded.stderr_text().find("warning") == std::string::npos);
    // Listening beyond loopback, the counters (agents, spending) want a token too.
    auto metrics = test::http_get(test::banner_port(guarded.stderr_text()), "/metrics");
    CHECK(metrics.status == 401);
    CHECK_THAT(metrics.body, Contains("missing_api_key"));
    guarded.signal(SIGTERM);
    CHECK(guarded.wait() == 0);

    test::Subprocess server(s.argv({"serve", "--host", "0.0.0.0", "--port", "0", "--router-url",
                                    router.url(), "--keypair", s.key(), "--insecure-no-auth"}),
                            s.env);
    REQUIRE(server.wait_for_stderr("Ctrl-C stops"));
    CHECK_THAT(server.stderr_text(),
               Contains("aimo: warning: listening beyond this machine with no authentication"));
    server.signal(SIGTERM);
    CHECK(server.wait() == 0);

    test::Subprocess local(
        s.argv({"serve", "--port", "0", "--router-url", router.url(), "--keypair", s.key()}),
        s.env);
    REQUIRE(local.wait_for_stderr("Ctrl-C stops"));
    CHECK(local.stderr_text().find("warning") == std::string::npos);
    CHECK(test::http_get(test::banner_port(local.stderr_text()), "/metrics").status == 200);
}

TEST_CASE("with ui_admin the owner secret is printed once, only by a start that listens",
          "[serve][ui]") {
    ServeSetup s;
    test::FakeRouter router;
    auto owner_file = s.home / ".local/share/aimo/owner-secret.sha256";
    // A start that fails shows no secret and keeps none.
    auto busy = [&] {
        test::ScriptedServer taken([](int, int) {}); // another program on the port
        return test::run_process(s.argv({"serve", "--port", std::to_string(taken.port()),
                                         "--keypair", s.key(), "--ui-admin", "true"}),
                                 s.env);
    }();
    CHECK(busy.code == 1);
    CHECK_THAT(busy.err, !Contains("aimo_owner_"));
    CHECK_FALSE(std::filesystem::exists(owner_file));

    std::string secret;
    {
        test::Subprocess first(s.argv({"serve", "--port", "0", "--router-url", router.url(),
                                       "--keypair", s.key(), "--ui-admin", "true"}),
                               s.env);
        REQUIRE(first.wait_for_stderr("Ctrl-C stops"));
        auto banner = first.stderr_text();
        CHECK_THAT(banner, Contains("/ui (owner actions on)"));
        auto at = banner.find("aimo_owner_");
        REQUIRE(at != std::string::npos);
        secret = banner.substr(at, banner.find('\n', at) - at);
        int port = test::banner_port(banner);
        auto created = test::http_post(port, "/api/aimo/agents", R"({"name":"web"})",
                                       {{"X-Aimo-Owner", secret}});
        CHECK(created.status == 201);
        first.signal(SIGTERM);
        CHECK(first.wait() == 0);
    }
    CHECK(core::file_mode(owner_file) == 0600);
    CHECK(core::read_file(owner_file).find(secret) == std::string::npos); // only its hash

    auto env = s.env;
    env["AIMO_UI_ADMIN"] = "true";
    test::Subprocess again(
        s.argv({"serve", "--port", "0", "--router-url", router.url(), "--keypair", s.key()}), env);
    REQUIRE(again.wait_for_stderr("Ctrl-C stops"));
    auto banner = again.stderr_text();
    CHECK_THAT(banner, Contains("(owner actions on)") && !Contains("aimo_owner_"));
    int port = test::banner_port(banner);
    CHECK(test::http_post(port, "/api/aimo/agents/web/revoke", "", {{"X-Aimo-Owner", secret}})
              .status == 200);
    again.signal(SIGTERM);
    CHECK(again.wait() == 0);
}

TEST_CASE("ui_admin takes true or false and needs the database", "[serve][ui]") {
    ServeSetup s;
    auto maybe =
        test::run_process(s.argv({"serve", "--keypair", s.key(), "--ui-admin", "maybe"}), s.env);
    CHECK(maybe.code == 2);
    CHECK_THAT(maybe.err, Contains("ui_admin 'maybe' (from --ui-admin) is not true or false"));
    auto no_database = test::run_process(
        s.argv({"serve", "--keypair", s.key(), "--ui-admin", "true", "--database", "off"}), s.env);
    CHECK(no_database.code == 2);
    CHECK_THAT(no_database.err, Contains("ui_admin needs the database"));
}
