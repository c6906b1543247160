// agent, stats and audit commands, and a proxy killed with SIGKILL under load.
#include "cli_setup.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "fake_router.hpp"
#include "governance/db.hpp"
#include "governance/ledger.hpp"
#include "governance/owner_log.hpp"
#include "http_helpers.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
struct Setup : test::CliSetup {
    const std::filesystem::path& db = database;
};

} // namespace

TEST_CASE("agent create prints a token once and stores only its hash", "[agent]") {
    Setup s;
    auto created = s.cli.run(
        {"agent", "create", "scout", "--budget", "2.5", "--rpm", "30", "--models", "a/b,c"});
    REQUIRE(created.code == 0);
    std::string token = created.out.substr(0, created.out.find('\n'));
    CHECK_THAT(token, Catch::Matchers::StartsWith("aimo_"));
    CHECK_THAT(created.err, Contains("shown only once"));
    CHECK(core::read_file(s.db).find(token) == std::string::npos);

    auto listed = s.cli.run({"agent", "list"});
    CHECK_THAT(listed.out, Contains("scout") && Contains("2.5000") && Contains("active"));
    auto shown = json::parse(s.cli.run({"agent", "show", "scout", "--json"}).out);
    CHECK(shown["budget_usd"] == 2.5);
    CHECK(shown["rpm"] == 30);
    CHECK(shown["tpm"].is_null());
    CHECK(shown["models"] == json{"a/b", "c"});
    CHECK(shown["token_hint"] == token.substr(0, 9) + "…");

    CHECK(shown["weight"] == 1);

    auto updated =
        s.cli.run({"agent", "update", "scout", "--rpm", "none", "--tpm", "1000", "--weight", "3"});
    CHECK(updated.code == 0);
    CHECK_THAT(updated.out, Contains("rpm:      -") && Contains("tpm:      1000") &&
                                Contains("budget:   $2.5000") && Contains("weight:   3"));
    CHECK_THAT(s.cli.run({"agent", "list"}).out, Contains("WEIGHT"));
    auto heavy = s.cli.run({"agent", "update", "scout", "--weight", "500"});
    CHECK(heavy.code == 2);
    CHECK_THAT(heavy.err, Contains("--weight 500 is not a whole number from 1 to 100"));

    CHECK(s.cli.run({"agent", "revoke", "scout"}).code == 0);
    CHECK_THAT(s.cli.run({"agent", "list"}).out, Contains("revoked"));

    auto twice = s.cli.run({"agent", "create", "scout"});
    CHECK(twice.code == 1);
    CHECK_THAT(twice.err, Contains("agent 'scout' already exists"));
    auto bad = s.cli.run({"agent", "create", "x", "--budget", "lots"});
    CHECK(bad.code == 2);
    CHECK_THAT(bad.err, Contains("--budget 'lots' is not a number"));
    auto missing = s.cli.run({"agent", "show", "ghost"});
    CHECK(missing.code == 1);
    CHECK_THAT(missing.err, Contains("there is no agent 'ghost'"));
}

TEST_CASE("a proxy killed with SIGKILL under load keeps its ledger and budgets", "[agent]") {
    Setup s;
    test::FakeRouter router;
    test::write_rfc8032_keypair(s.home / "key.json");
    // Each request really costs 1.68e-6 USD (5 tokens of deepseek); ~119 of them fit the budget.
    auto token = s.cli.run({"agent", "create", "bot", "--budget", "0.0002"}).out;
    token = token.substr(0, token.find('\n'));
    std::map<std::string, std::string> env = {{"HOME", s.home.path().string()},
                                              {"PATH", "/usr/bin:/bin"}};
    std::vector<std::string> argv = {
        AIMO_BINARY,    "serve",      "--port",    "0",
        "--router-url", router.url(), "--keypair", (s.home / "key.json").string()};
    std::string body = R"({"model":"deepseek/deepseek-v3.2","max_tokens":1,"messages":[]})";
    httplib::Headers auth = {{"Authorization", "Bearer " + token}};
    auto recorded = [&] {
        auto rows = json::parse(s.cli.run({"stats", "--json"}).out);
        return rows.empty() ? 0 : rows[0]["requests"].get<int>();
    };
    {
        test::Subprocess server(argv, env);
        REQUIRE(server.wait_for_stderr("Ctrl-C stops"));
        int port = test::banner_port(server.stderr_text());
        // Eight requests settle: their records are committed.
        for (int i = 0; i < 8; ++i) {
            REQUIRE(test::http_post(port, "/v1/chat/completions", body, auth).status == 200);
        }
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (recorded() < 8 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
        }
        REQUIRE(recorded() == 8);
        // Then clients keep sending while the proxy is killed.
        std::atomic<bool> killed{false};
        std::vector<std::future<void>> clients;
        for (int c = 0; c < 4; ++c) {
            clients.push_back(std::async(std::launch::async, [&] {
                for (int i = 0; i < 2 && !killed; ++i) {
                    test::http_post(port, "/v1/chat/completions", body, auth);
                }
            }));
        }
        while (router.count("/api/v1/chat") < 10) {
            std::this_thread::yield();
        }
        server.signal(SIGKILL);
        killed = true;
        for (auto& client : clients) {
            client.get();
        }
        CHECK(server.wait() == 128 + SIGKILL);
    }
    // The database opens, the chain is whole, and every settled request is there.
    auto verify = s.cli.run({"audit", "verify"});
    CHECK(verify.code == 0);
    CHECK(recorded() >= 8);
    auto stats = json::parse(s.cli.run({"stats", "--by", "agent", "--json"}).out);
    REQUIRE(stats.size() == 1);
    CHECK(stats[0]["agent"] == "bot");
    auto spent = json::parse(s.cli.run({"agent", "show", "bot", "--json"}).out)["spent_usd"];
    CHECK(spent.get<double>() == Approx(stats[0]["cost_usd"].get<double>()));

    // Restarted, the proxy knows what was spent: it stops the agent at the budget.
    test::Subprocess again(argv, env);
    REQUIRE(again.wait_for_stderr("Ctrl-C stops"));
    int port = test::banner_port(again.stderr_text());
    int more = 0;
    test::Reply last;
    for (int i = 0; i < 400; ++i) {
        last = test::http_post(port, "/v1/chat/completions", body, auth);
        if (last.status != 200) {
            break;
        }
        ++more;
    }
    CHECK(last.status == 402);
    double total = 0;
    for (const auto& row : json::parse(s.cli.run({"stats", "--json"}).out)) {
        total += row["cost_usd"].get<double>();
    }
    CHECK(total <= 0.0002 + 1e-12);
    again.signal(SIGTERM);
    CHECK(again.wait() == 0);
}

TEST_CASE("stats groups the ledger, audit tail and verify read it", "[audit]") {
    Setup s;
    test::FakeRouter router;
    test::write_rfc8032_keypair(s.home / "key.json");
    {
        test::Subprocess server({AIMO_BINARY, "serve", "--port", "0", "--router-url", router.url(),
                                 "--keypair", (s.home / "key.json").string()},
                                {{"HOME", s.home.path().string()}, {"PATH", "/usr/bin:/bin"}});
        REQUIRE(server.wait_for_stderr("Ctrl-C stops"));
        int port = test::banner_port(server.stderr_text());
        for (const char* model :
             {"deepseek/deepseek-v3.2", "deepseek/deepseek-v3.2", "plain-model"}) {
            test::http_post(port, "/v1/chat/completions",
                            std::string(R"({"model":")") + model + R"(","messages":[]})");
        }
        server.signal(SIGTERM);
        CHECK(server.wait() == 0);
    }
    auto table = s.cli.run({"stats", "--by", "model"});
    CHECK(table.code == 0);
    CHECK_THAT(table.out, Contains("MODEL") && Contains("P95 ms") && Contains("QUEUE P95"));
    auto rows = json::parse(s.cli.run({"stats", "--by", "model", "--json", "--since", "1d"}).out);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0]["model"] == "deepseek/deepseek-v3.2"); // the costlier first
    CHECK(rows[0]["requests"] == 2);
    CHECK(rows[0]["tokens_in"] == 6);
    CHECK(rows[0]["tokens_out"] == 4);
    CHECK(rows[1]["cost_usd"] == 0); // no price known for plain-model
    CHECK(rows[0]["queue_p50_ms"].get<double>() >= 0);
    CHECK(json::parse(s.cli.run({"stats", "--json", "--since", "2999-01-01"}).out).empty());
    CHECK(s.cli.run({"stats", "--since", "yesterday"}).code == 2);

    auto tail = s.cli.run({"audit", "tail", "-n", "2"});
    CHECK_THAT(tail.out, Contains("     2 ") && Contains("     3 ") && !Contains("     1 "));
    CHECK_THAT(tail.out, Contains("model=plain-model") && Contains("status=200"));
    CHECK(s.cli.run({"audit", "verify"}).out == "ok: 3 records, every hash and link intact\n");

    {
        governance::Database db(s.db);
        db.exec("DROP TRIGGER requests_append_only_update");
        db.exec("UPDATE requests SET agent = 'someone' WHERE seq = 2");
    }
    auto broken = s.cli.run({"audit", "verify"});
    CHECK(broken.code == 1);
    CHECK_THAT(broken.err, Contains("audit trail broken at record 2") && Contains("edited"));
    auto as_json = json::parse(s.cli.run({"audit", "verify", "--json"}).out);
    CHECK(as_json["ok"] == false);
    CHECK(as_json["first_bad"] == 2);
}

TEST_CASE("database off keeps no records and allows no agents", "[audit]") {
    Setup s;
    s.cli.env["AIMO_DATABASE"] = "off";
    auto stats = s.cli.run({"stats"});
    CHECK(stats.code == 2);
    CHECK_THAT(stats.err, Contains("the usage database is switched off"));
    CHECK(s.cli.run({"agent", "create", "x"}).code == 2);
    auto custom =
        s.cli.run({"agent", "create", "x", "--database", (s.home / "elsewhere.db").string()});
    CHECK(custom.code == 0);
    CHECK(std::filesystem::exists(s.home / "elsewhere.db"));
    CHECK_FALSE(std::filesystem::exists(s.db));
}

TEST_CASE("stats --by dialect tells chat, Messages and Responses requests apart", "[stats]") {
    Setup s;
    test::FakeRouter router;
    test::write_rfc8032_keypair(s.home / "key.json");
    {
        test::Subprocess server({AIMO_BINARY, "serve", "--port", "0", "--router-url", router.url(),
                                 "--keypair", (s.home / "key.json").string()},
                                {{"HOME", s.home.path().string()}, {"PATH", "/usr/bin:/bin"}});
        REQUIRE(server.wait_for_stderr("Ctrl-C stops"));
        int port = test::banner_port(server.stderr_text());
        const std::string model = R"("model":"deepseek/deepseek-v3.2")";
        CHECK(test::http_post(port, "/v1/chat/completions",
                              "{" + model + R"(,"messages":[{"role":"user","content":"hi"}]})")
                  .status == 200);
        CHECK(test::http_post(port, "/v1/messages",
                              "{" + model +
                                  R"(,"max_tokens":9,"messages":[{"role":"user","content":"hi"}]})")
                  .status == 200);
        for (int i = 0; i < 2; ++i) {
            CHECK(
                test::http_post(port, "/v1/responses", "{" + model + R"(,"input":"hi"})").status ==
                200);
        }
        server.signal(SIGTERM);
        CHECK(server.wait() == 0);
    }
    auto rows = json::parse(s.cli.run({"stats", "--by", "dialect", "--json"}).out);
    std::map<std::string, int> requests;
    for (const auto& row : rows) {
        requests[row["dialect"].get<std::string>()] = row["requests"].get<int>();
    }
    CHECK(requests == std::map<std::string, int>{{"chat", 1}, {"messages", 1}, {"responses", 2}});
    auto table = s.cli.run({"stats", "--by", "dialect"});
    CHECK_THAT(table.out, Contains("DIALECT") && Contains("responses"));
}

TEST_CASE("audit tail -f prints records as they are committed until Ctrl-C", "[audit]") {
    Setup s;
    governance::Database db(s.db);
    governance::Ledger ledger(db);
    governance::UsageRecord record{
        "2026-11-21T00:00:00Z", "req_1", "bot", "m", "aimo", 200, 3, 2, 0.0, 100};
    ledger.submit(record);
    ledger.flush();
    auto out = s.home / "tail.out";
    test::Subprocess tail(
        {"/bin/sh", "-c",
         std::string("exec ") + AIMO_BINARY + " audit tail -f --json > " + out.string()},
        {{"HOME", s.home.path().string()}, {"PATH", "/usr/bin:/bin"}});
    auto lines_within = [&](size_t want) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (;;) {
            std::string text;
            try {
                text = core::read_file(out);
            } catch (const core::Error&) {
            }
            auto lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
            if (lines >= want || std::chrono::steady_clock::now() > deadline) {
                return text;
            }
            std::this_thread::yield();
        }
    };
    CHECK_THAT(lines_within(1), Contains("\"request_id\":\"req_1\""));
    record.request_id = "req_2";
    ledger.submit(record);
    ledger.flush();
    auto both = lines_within(2);
    CHECK_THAT(both, Contains("\"request_id\":\"req_2\"") && Contains("\"seq\":2"));
    tail.signal(SIGINT);
    CHECK(tail.wait() == 0);
}

TEST_CASE("stats shows refusals, which are counted rather than recorded", "[audit]") {
    Setup s;
    {
        governance::Database db(s.db);
        governance::Ledger ledger(db);
        for (int i = 0; i < 3; ++i) {
            ledger.count_denial("2026-12-01T10:00:05.000Z", "bot", 402, "budget_exceeded");
        }
        ledger.count_denial("2026-12-01T10:01:00.000Z", "-", 401, "missing_api_key");
        ledger.flush();
    }
    auto by_agent = json::parse(s.cli.run({"stats", "--json"}).out);
    REQUIRE(by_agent.size() == 2);
    std::map<std::string, int64_t> denied;
    for (const auto& row : by_agent) {
        denied[row["agent"]] = row["denied"];
        CHECK(row["requests"] == 0);
    }
    CHECK(denied == std::map<std::string, int64_t>{{"bot", 3}, {"-", 1}});
    auto by_model = json::parse(s.cli.run({"stats", "--by", "model", "--json"}).out);
    REQUIRE(by_model.size() == 1);
    CHECK(by_model[0]["model"] == "(refused)");
    CHECK(by_model[0]["denied"] == 4);
    CHECK_THAT(s.cli.run({"stats"}).out, Contains("DENIED"));
}

TEST_CASE("cache stats and clear work on a running proxy's cache", "[cache]") {
    Setup s;
    test::FakeRouter router;
    test::write_rfc8032_keypair(s.home / "key.json");
    auto token = s.cli.run({"agent", "create", "bot"}).out;
    token = token.substr(0, token.find('\n'));
    test::Subprocess server({AIMO_BINARY, "serve", "--port", "0", "--router-url", router.url(),
                             "--keypair", (s.home / "key.json").string()},
                            {{"HOME", s.home.path().string()}, {"PATH", "/usr/bin:/bin"}});
    REQUIRE(server.wait_for_stderr("Ctrl-C stops"));
    int port = test::banner_port(server.stderr_text());
    httplib::Headers auth = {{"Authorization", "Bearer " + token}};
    std::string body = R"({"model":"deepseek/deepseek-v3.2","temperature":0,"messages":[]})";
    CHECK(test::http_post(port, "/v1/chat/completions", body, auth).header("x-aimo-cache") ==
          "miss");
    CHECK(test::http_post(port, "/v1/chat/completions", body, auth).header("x-aimo-cache") ==
          "hit");
    // The file is written off the request path: wait until it holds the entry.
    json stats;
    for (int i = 0; i < 200; ++i) {
        stats = json::parse(s.cli.run({"cache", "stats", "--json"}).out);
        if (!stats["namespaces"].empty()) {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10)); // polling a file
    }
    REQUIRE(stats["namespaces"].size() == 1);
    CHECK(stats["namespaces"][0]["namespace"] == "bot");
    CHECK(stats["namespaces"][0]["entries"] == 1);
    CHECK_THAT(s.cli.run({"cache", "stats"}).out, Contains("NAMESPACE") && Contains("bot"));

    CHECK_THAT(s.cli.run({"cache", "clear", "--agent", "other"}).err, Contains("removed 0"));
    auto cleared = s.cli.run({"cache", "clear", "--agent", "bot"});
    CHECK(cleared.code == 0);
    CHECK_THAT(cleared.err, Contains("removed 1 cached answer of agent 'bot'"));
    // The running proxy forgets it too, within a second.
    std::string result;
    for (int i = 0; i < 100; ++i) { // a hit until the proxy has heard of the clear
        result = test::http_post(port, "/v1/chat/completions", body, auth).header("x-aimo-cache");
        if (result == "miss") {
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(result == "miss");
    server.signal(SIGTERM);
    CHECK(server.wait() == 0);
    auto by_agent = json::parse(s.cli.run({"stats", "--json"}).out);
    REQUIRE(by_agent.size() == 1);
    CHECK(by_agent[0]["cache_hits"].get<int>() >= 1);
    CHECK(by_agent[0]["saved_usd"].get<double>() > 0);
}

TEST_CASE("status shows what a running proxy is doing, and says when none runs", "[status]") {
    Setup s;
    test::FakeRouter router;
    test::write_rfc8032_keypair(s.home / "key.json");
    auto none = s.cli.run({"status", "--port", "1"});
    CHECK(none.code == 1);
    CHECK_THAT(none.err, Contains("no aimo proxy answers at http://127.0.0.1:1") &&
                             Contains("aimo chat --serve"));

    test::Subprocess server({AIMO_BINARY, "serve", "--port", "0", "--router-url", router.url(),
                             "--keypair", (s.home / "key.json").string()},
                            {{"HOME", s.home.path().string()}, {"PATH", "/usr/bin:/bin"}});
    REQUIRE(server.wait_for_stderr("Ctrl-C stops"));
    std::string port = std::to_string(test::banner_port(server.stderr_text()));
    test::http_post(std::stoi(port), "/v1/chat/completions",
                    R"({"model":"deepseek/deepseek-v3.2","messages":[]})");
    auto table = s.cli.run({"status", "--port", port});
    CHECK(table.code == 0);
    CHECK_THAT(table.out, Contains("PROVIDER") && Contains("IN FLIGHT") && Contains("QUEUED") &&
                              Contains("aimo ") && Contains("none"));
    auto as_json = json::parse(s.cli.run({"status", "--port", port, "--json"}).out);
    REQUIRE(as_json.size() == 1);
    CHECK(as_json[0]["provider"] == "aimo");
    CHECK(as_json[0]["in_flight"] == 0);
    CHECK(as_json[0]["queued"] == 0);
    CHECK(as_json[0]["limits"]["max_in_flight"].is_null());
    server.signal(SIGTERM);
    CHECK(server.wait() == 0);
}

TEST_CASE("aimo audit lists the dashboard's owner actions and verify checks their chain",
          "[audit]") {
    Setup s;
    REQUIRE(s.cli.run({"agent", "create", "scout"}).code == 0);
    {
        governance::Database db(s.db);
        governance::record_owner_action(db, {0, "2026-12-03T10:00:00.000Z", "create", "web",
                                             R"({"budget_usd":2})", "::1", "", ""});
        governance::record_owner_action(
            db, {0, "2026-12-03T10:01:00.000Z", "revoke", "web", "{}", "127.0.0.1", "", ""});
    }
    auto listed = s.cli.run({"audit", "owner"});
    REQUIRE(listed.code == 0);
    CHECK_THAT(listed.out, Contains("create agent=web {\"budget_usd\":2} from=::1") &&
                               Contains("revoke agent=web {} from=127.0.0.1"));
    auto first = json::parse(s.cli.run({"audit", "owner", "--json", "-n", "1"}).out);
    CHECK(first["seq"] == 2);
    CHECK(first["action"] == "revoke");
    CHECK(s.cli.run({"audit", "verify"}).out ==
          "ok: 0 records and 2 owner actions, every hash and link intact\n");

    {
        governance::Database db(s.db);
        db.exec("DROP TRIGGER owner_actions_append_only_update");
        db.exec(R"(UPDATE owner_actions SET detail = '{"budget_usd":200}' WHERE seq = 1)");
    }
    auto broken = s.cli.run({"audit", "verify"});
    CHECK(broken.code == 1);
    CHECK_THAT(broken.err, Contains("owner action 1 (create web)") && Contains("edited"));
    auto as_json = json::parse(s.cli.run({"audit", "verify", "--json"}).out);
    CHECK(as_json["ok"] == false);
    CHECK(as_json["first_bad"] == 1);
}

TEST_CASE("aimo audit owner says when there are none", "[audit]") {
    Setup s;
    REQUIRE(s.cli.run({"agent", "create", "scout"}).code == 0);
    auto none = s.cli.run({"audit", "owner"});
    CHECK(none.code == 0);
    CHECK(none.out.empty());
    CHECK_THAT(none.err, Contains("no owner actions") && Contains("ui_admin"));
}
