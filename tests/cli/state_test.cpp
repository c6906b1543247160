// Three real aimo processes sharing one real redis-server, as a team behind a load balancer
// runs them: one budget, one rate limit and one token per agent wherever requests land, leases
// that free what a killed instance held, fail-closed admissions while the state server is
// gone, and the instances' three ledgers read as one.
#include "cli_setup.hpp"
#include "fake_router.hpp"
#include "http_helpers.hpp"
#include "redis_server.hpp"
#include "state/client.hpp"
#include "state/redis_url.hpp"
#include "subprocess.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {
// The answer every test's router gives: 3 prompt and 100 completion tokens of deepseek (fewer
// when aimo lowered max_tokens to what a budget has left, as a real upstream honours it), which
// cost 3 * 0.28e-6 + 100 * 0.42e-6 USD; streamed requests wait at the router's gate.
constexpr double answer_cost = 3 * 0.28e-6 + 100 * 0.42e-6;
const std::string body = R"({"model":"deepseek/deepseek-v3.2","max_tokens":100,"messages":[]})";
const std::string stream_body =
    R"({"model":"deepseek/deepseek-v3.2","max_tokens":100,"stream":true,"messages":[]})";

struct Fleet : test::CliSetup {
    test::RedisServer redis;
    test::FakeRouter router;
    std::vector<std::unique_ptr<test::Subprocess>> instances;
    std::vector<int> ports;

    /// `config`: the instances' config.toml (all read the same one), if any.
    explicit Fleet(bool appendonly = false, const std::string& lease_ms = "30000",
                   const std::string& config = "")
        : redis(appendonly) {
        test::write_rfc8032_keypair(home / "key.json");
        if (!config.empty()) {
            std::filesystem::create_directories(home / ".config/aimo");
            std::ofstream(home / ".config/aimo/config.toml") << config;
        }
        router.on_completion = [this](const httplib::Request& req, httplib::Response& res) {
            auto request = json::parse(req.body);
            auto completion =
                std::to_string(std::min<int64_t>(100, request.value("max_tokens", 100)));
            if (request.value("stream", false)) {
                res.set_chunked_content_provider(
                    "text/event-stream", [this, completion](size_t, httplib::DataSink& sink) {
                        std::string first =
                            "data: {\"choices\":[{\"delta\":{\"content\":\"a\"}}]}\n\n";
                        if (!sink.write(first.data(), first.size())) {
                            return false;
                        }
                        router.wait_gate(20000);
                        std::string rest = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,"
                                           "\"completion_tokens\":" +
                                           completion + "}}\n\ndata: [DONE]\n\n";
                        sink.write(rest.data(), rest.size());
                        sink.done();
                        return true;
                    });
                return;
            }
            res.set_content(R"({"id":"c","object":"chat.completion","choices":[{"index":0,)"
                            R"("message":{"role":"assistant","content":"ok"},)"
                            R"("finish_reason":"stop"}],)"
                            R"("usage":{"prompt_tokens":3,"completion_tokens":)" +
                                completion + "}}",
                            "application/json");
        };
        for (int i = 0; i < 3; ++i) {
            instances.push_back(std::make_unique<test::Subprocess>(
                argv({"serve", "--port", "0", "--router-url", router.url(), "--keypair",
                      (home / "key.json").string(), "--state", redis.url(), "--database", ledger(i),
                      "--state-lease-ms", lease_ms}),
                env()));
        }
        for (auto& instance : instances) {
            INFO(instance->stderr_text());
            REQUIRE(instance->wait_for_stderr("Ctrl-C stops"));
            ports.push_back(test::banner_port(instance->stderr_text()));
        }
    }
    std::string ledger(int i) const {
        return (home / ("instance" + std::to_string(i) + ".db")).string();
    }

    /// `aimo …` with the shared state.
    test::CliResult aimo(std::vector<std::string> args) {
        args.insert(args.end(), {"--state", redis.url()});
        return cli.run(args);
    }
    std::string create(const std::string& name, std::vector<std::string> limits) {
        std::vector<std::string> args = {"agent", "create", name};
        args.insert(args.end(), limits.begin(), limits.end());
        auto created = aimo(args);
        REQUIRE(created.code == 0);
        return created.out.substr(0, created.out.find('\n'));
    }
    double spent(const std::string& name) {
        return json::parse(aimo({"agent", "show", name, "--json"}).out)["spent_usd"].get<double>();
    }
    /// Waits until the state server has counted `count` settlements in all: instances send
    /// them after the reply, off the request path.
    void wait_settled(size_t count) {
        state::StateClient client(state::parse_redis_url(redis.url()), nullptr);
        auto deadline = Clock::now() + std::chrono::seconds(10);
        // Each instance's mark is the number of settlements the server counted from it.
        auto counted = [&] {
            size_t total = 0;
            auto marks = client.command({"KEYS", std::string(state::key_prefix) + "settled:*"});
            for (const auto& mark : marks.elements) {
                total += std::stoul(client.command({"GET", mark.text}).text);
            }
            return total;
        };
        while (counted() < count && Clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    test::Reply post(int instance, const std::string& token, const std::string& what = body) {
        return test::http_post(ports.at(static_cast<size_t>(instance)), "/v1/chat/completions",
                               what, {{"Authorization", "Bearer " + token}}, {}, 30);
    }
    /// `aimo stats` over the three ledgers, once they hold `requests` records.
    json stats(int64_t requests) {
        std::vector<std::string> args = {"stats", "--by", "agent", "--json"};
        for (int i = 0; i < 3; ++i) {
            args.insert(args.end(), {"--database", ledger(i)});
        }
        auto deadline = Clock::now() + std::chrono::seconds(10);
        json rows;
        do {
            rows = json::parse(cli.run(args).out);
            int64_t total = 0;
            for (const auto& row : rows) {
                total += row["requests"].get<int64_t>();
            }
            if (total >= requests) {
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        } while (Clock::now() < deadline);
        return rows;
    }
};

// `count` requests at once, spread over the fleet; the status of each.
std::vector<int> burst(Fleet& fleet, const std::string& token, int count) {
    std::vector<std::future<int>> replies;
    for (int i = 0; i < count; ++i) {
        replies.push_back(
            std::async(std::launch::async, [&, i] { return fleet.post(i % 3, token).status; }));
    }
    std::vector<int> statuses;
    for (auto& reply : replies) {
        statuses.push_back(reply.get());
    }
    return statuses;
}

int64_t count_of(const std::vector<int>& statuses, int status) {
    return std::count(statuses.begin(), statuses.end(), status);
}
} // namespace

TEST_CASE("a 300-way burst over three instances never passes one agent's budget", "[state]") {
    Fleet fleet;
    // About seventy answers fit the small budget; the roomy one is twice what 300 cost.
    auto small = fleet.create("small", {"--budget", "0.003"});
    auto roomy = fleet.create("roomy", {"--budget", "0.04"});
    auto statuses = burst(fleet, small, 300);
    auto ok = count_of(statuses, 200);
    CHECK(ok + count_of(statuses, 402) == 300);
    CHECK(count_of(statuses, 402) > 0);
    fleet.wait_settled(static_cast<size_t>(ok));
    double spent = fleet.spent("small");
    CHECK(spent <= 0.003 + 1e-12);
    CHECK(spent <= static_cast<double>(ok) * answer_cost + 1e-12); // the last ones capped
    CHECK(spent >= 0.0015); // the holds of requests in flight never refused half the budget

    // Well under its budget, a burst is refused nothing.
    auto roomy_statuses = burst(fleet, roomy, 300);
    CHECK(count_of(roomy_statuses, 200) == 300);
    fleet.wait_settled(static_cast<size_t>(ok) + 300);
    CHECK(fleet.spent("roomy") == Approx(300 * answer_cost));

    // The three ledgers, read as one, agree with the shared spending.
    auto rows = fleet.stats(ok + 300);
    std::map<std::string, json> by_agent;
    for (const auto& row : rows) {
        by_agent[row["agent"].get<std::string>()] = row;
    }
    REQUIRE(by_agent.count("small") == 1);
    CHECK(by_agent["small"]["requests"] == ok);
    CHECK(by_agent["small"]["denied"] == 300 - ok);
    CHECK(by_agent["small"]["cost_usd"].get<double>() == Approx(spent));
    CHECK(by_agent["roomy"]["requests"] == 300);
    std::vector<std::string> verify = {"audit", "verify"};
    for (int i = 0; i < 3; ++i) {
        verify.insert(verify.end(), {"--database", fleet.ledger(i)});
    }
    auto verified = fleet.cli.run(verify);
    CHECK(verified.code == 0);
    CHECK_THAT(verified.out, Contains("instance2.db"));
}

TEST_CASE("an rpm limit of 60 holds across three instances", "[state]") {
    Fleet fleet;
    auto token = fleet.create("bot", {"--rpm", "60"});
    for (int i = 0; i < 60; ++i) {
        auto reply = fleet.post(i % 3, token);
        REQUIRE(reply.status == 200);
        CHECK(reply.header("x-ratelimit-remaining-requests") == std::to_string(59 - i));
    }
    for (int i = 0; i < 3; ++i) {
        auto refused = fleet.post(i, token);
        CHECK(refused.status == 429);
        CHECK_THAT(refused.body, Contains("limit of 60 requests per minute"));
        CHECK_FALSE(refused.header("Retry-After").empty());
    }
}

TEST_CASE("a provider's max_in_flight and rpm hold across three instances", "[state]") {
    // One upstream account, one request at a time and four a minute, whichever instance asks.
    Fleet fleet(false, "30000",
                "[[providers]]\nname = \"aimo\"\nkind = \"aimo\"\nmax_in_flight = 1\n"
                "rpm = 4\nqueue_timeout = 0.5\n");
    test::Reply streamed;
    std::thread client([&] { streamed = fleet.post(0, "", stream_body); });
    REQUIRE(fleet.router.wait_waiting(1));
    // Alone, each other instance would send at once; the shared count makes them wait their
    // queue_timeout for the one place, and then say so.
    for (int i = 1; i < 3; ++i) {
        auto waited = fleet.post(i, "");
        CHECK(waited.status == 429);
        CHECK(json::parse(waited.body)["error"]["code"] == "queue_timeout");
        CHECK(waited.header("x-aimo-attempts") == "aimo:queue-timeout");
    }
    CHECK(fleet.router.count("/api/v1/chat/completions") == 1);
    fleet.router.open_gate();
    client.join();
    CHECK(streamed.status == 200);
    // The place is free again everywhere; the window then holds three more, wherever they go.
    for (int i = 0; i < 3; ++i) {
        auto reply = fleet.post((i + 1) % 3, "");
        INFO(reply.body);
        CHECK(reply.status == 200);
    }
    auto over = fleet.post(0, "");
    CHECK(over.status == 429);
    CHECK(json::parse(over.body)["error"]["code"] == "queue_timeout");
    CHECK(fleet.router.count("/api/v1/chat/completions") == 4);
}

TEST_CASE("an agent created on the CLI works on every instance, a revoke applies within 1 s",
          "[state]") {
    Fleet fleet;
    auto token = fleet.create("bot", {});
    for (int i = 0; i < 3; ++i) {
        CHECK(fleet.post(i, token).status == 200);
    }
    CHECK(fleet.post(0, "aimo_not_a_token").status == 401);
    REQUIRE(fleet.aimo({"agent", "revoke", "bot"}).code == 0);
    auto revoked_at = Clock::now();
    for (int i = 0; i < 3; ++i) {
        auto refused = fleet.post(i, token);
        CHECK(refused.status == 401);
        CHECK_THAT(refused.body, Contains("revoked"));
    }
    CHECK(Clock::now() - revoked_at < std::chrono::seconds(1));
    fleet.wait_settled(3);
    auto listed = json::parse(fleet.aimo({"agent", "list", "--json"}).out);
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["spent_usd"].get<double>() == Approx(3 * answer_cost));
}

TEST_CASE("an instance killed mid-stream frees its reservation when the lease ends", "[state]") {
    Fleet fleet(false, "1500");
    // One answer's worst case fits the budget; two do not.
    auto token = fleet.create("bot", {"--budget", "0.00007"});
    test::Reply streamed;
    std::thread client([&] { streamed = fleet.post(0, token, stream_body); });
    REQUIRE(fleet.router.wait_waiting(1));
    CHECK(fleet.post(1, token).status == 402);
    fleet.instances[0]->signal(SIGKILL);
    CHECK(fleet.instances[0]->wait() == 128 + SIGKILL);
    client.join();
    CHECK(fleet.post(1, token).status == 402); // the lease still runs
    fleet.router.open_gate();
    auto deadline = Clock::now() + std::chrono::seconds(10);
    int status = 402;
    while (status == 402 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        status = fleet.post(2, token).status;
    }
    CHECK(status == 200);
    fleet.wait_settled(1);
    CHECK(fleet.spent("bot") == Approx(answer_cost)); // the dead one's answer never settled
}

TEST_CASE("while redis is down requests fail closed, after its restart they go on, each "
          "charged once",
          "[state]") {
    Fleet fleet(true);
    auto token = fleet.create("bot", {"--budget", "1"});
    for (int i = 0; i < 3; ++i) {
        REQUIRE(fleet.post(i, token).status == 200);
    }
    test::Reply streamed;
    std::thread client([&] { streamed = fleet.post(0, token, stream_body); });
    REQUIRE(fleet.router.wait_waiting(1));
    fleet.redis.kill();
    for (int i = 1; i < 3; ++i) {
        auto refused = fleet.post(i, token);
        CHECK(refused.status == 503);
        CHECK(json::parse(refused.body)["error"]["code"] == "state_unavailable");
        CHECK_THAT(refused.body, Contains("state server redis://127.0.0.1:" +
                                          std::to_string(fleet.redis.port())));
        CHECK(fleet.instances[static_cast<size_t>(i)]->wait_for_stderr("lost the state server"));
    }
    // The stream in flight finishes meanwhile; its cost waits for the server.
    fleet.router.open_gate();
    client.join();
    CHECK(streamed.status == 200);
    fleet.redis.start();
    for (int i = 0; i < 3; ++i) {
        auto deadline = Clock::now() + std::chrono::seconds(10);
        test::Reply reply;
        while (reply.status != 200 && Clock::now() < deadline) {
            reply = fleet.post(i, token);
            if (reply.status != 200) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
        INFO(reply.body);
        CHECK(reply.status == 200);
    }
    CHECK(fleet.instances[0]->wait_for_stderr("is back"));
    // 3 before, the stream, 3 after: what the ledgers hold is what the state server charged.
    auto deadline = Clock::now() + std::chrono::seconds(10);
    while (fleet.spent("bot") < 7 * answer_cost - 1e-12 && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK(fleet.spent("bot") == Approx(7 * answer_cost));
    auto rows = fleet.stats(7);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0]["requests"] == 7);
    CHECK(rows[0]["cost_usd"].get<double>() == Approx(7 * answer_cost));
}

TEST_CASE("state import copies local agents once, doctor and serve check the state server",
          "[state]") {
    test::CliSetup s;
    test::RedisServer redis;
    test::FakeRouter router;
    test::write_rfc8032_keypair(s.home / "key.json");
    auto local = s.cli.run({"agent", "create", "scout", "--budget", "2", "--rpm", "30"});
    REQUIRE(local.code == 0);
    auto token = local.out.substr(0, local.out.find('\n'));
    {
        // One request spent locally first: what it cost moves with the agent.
        test::Subprocess alone(s.argv({"serve", "--port", "0", "--router-url", router.url(),
                                       "--keypair", (s.home / "key.json").string()}),
                               s.env());
        REQUIRE(alone.wait_for_stderr("Ctrl-C stops"));
        CHECK(test::http_post(test::banner_port(alone.stderr_text()), "/v1/chat/completions", body,
                              {{"Authorization", "Bearer " + token}})
                  .status == 200);
        alone.signal(SIGTERM);
        REQUIRE(alone.wait() == 0);
    }
    auto spent_here = json::parse(s.cli.run({"agent", "show", "scout", "--json"}).out)["spent_usd"];
    CHECK(spent_here.get<double>() > 0);
    auto imported = s.cli.run({"state", "import", "--state", redis.url()});
    CHECK(imported.code == 0);
    CHECK_THAT(imported.out, Contains("added    scout"));
    auto again = s.cli.run({"state", "import", "--state", redis.url()});
    CHECK_THAT(again.out, Contains("skipped  scout"));
    auto shown =
        json::parse(s.cli.run({"agent", "show", "scout", "--json", "--state", redis.url()}).out);
    CHECK(shown["budget_usd"] == 2.0);
    CHECK(shown["rpm"] == 30);
    CHECK(shown["spent_usd"] == spent_here);

    // The imported token works on an instance that shares the state and has no local agents.
    auto fresh = s.home / "fresh.db";
    test::Subprocess server(s.argv({"serve", "--port", "0", "--router-url", router.url(),
                                    "--keypair", (s.home / "key.json").string(), "--state",
                                    redis.url(), "--database", fresh.string()}),
                            s.env());
    REQUIRE(server.wait_for_stderr("Ctrl-C stops"));
    CHECK_THAT(server.stderr_text(), Contains("state:    " + redis.url() + "/0"));
    int port = test::banner_port(server.stderr_text());
    CHECK(
        test::http_post(port, "/v1/chat/completions", body, {{"Authorization", "Bearer " + token}})
            .status == 200);
    CHECK(test::http_post(port, "/v1/chat/completions", body).status == 401);

    auto state = json::parse(s.cli.run({"state", "show", "--json", "--state", redis.url()}).out);
    CHECK(state["schema"] == "1");
    CHECK(state["agents"] == 1);
    CHECK(state["appendonly"] == false);
    auto doctor = s.cli.run({"doctor", "--router-url", router.url(), "--keypair",
                             (s.home / "key.json").string(), "--state", redis.url()});
    CHECK_THAT(doctor.out, Contains("PASS  state") && Contains("schema 1, 1 agent"));
    CHECK_THAT(doctor.out, Contains("WARN  state-persistence") && Contains("appendonly is off"));

    // Without its state server, an instance does not start, and says why.
    int gone = redis.port();
    redis.kill();
    auto refused = test::run_process(s.argv({"serve", "--port", "0", "--router-url", router.url(),
                                             "--keypair", (s.home / "key.json").string(), "--state",
                                             "redis://127.0.0.1:" + std::to_string(gone)}),
                                     s.env());
    CHECK(refused.code == 1);
    CHECK_THAT(refused.err,
               Contains("cannot reach the state server redis://127.0.0.1:" + std::to_string(gone)));
    auto tls = s.cli.run({"agent", "list", "--state", "rediss://example.com"});
    CHECK(tls.code == 2);
    CHECK_THAT(tls.err, Contains("stunnel"));
}

TEST_CASE("a state server holding another schema is refused by serve, agent and doctor",
          "[state]") {
    test::CliSetup s;
    test::RedisServer redis;
    test::FakeRouter router;
    test::write_rfc8032_keypair(s.home / "key.json");
    REQUIRE(s.cli.run({"agent", "create", "scout", "--state", redis.url()}).code == 0);
    state::StateClient(state::parse_redis_url(redis.url()), nullptr)
        .command({"SET", std::string(state::key_prefix) + "schema", "99"});
    auto serve =
        test::run_process(s.argv({"serve", "--port", "0", "--router-url", router.url(), "--keypair",
                                  (s.home / "key.json").string(), "--state", redis.url()}),
                          s.env());
    CHECK(serve.code == 1);
    CHECK_THAT(serve.err,
               Contains("holds aimo state of schema 99") && Contains("this aimo knows schema 1"));
    auto listed = s.cli.run({"agent", "list", "--state", redis.url()});
    CHECK(listed.code == 1);
    CHECK_THAT(listed.err, Contains("schema 99"));
    auto doctor = s.cli.run({"doctor", "--router-url", router.url(), "--keypair",
                             (s.home / "key.json").string(), "--state", redis.url()});
    CHECK(doctor.code == 1);
    CHECK_THAT(doctor.out, Contains("FAIL  state") && Contains("schema 99"));
}
