// The state server's client against a real redis-server: commands, an atomic check-and-reserve
// script that no interleaving of clients can overshoot, and errors that name the server.
#include "core/error.hpp"
#include "redis_server.hpp"
#include "state/redis.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

using namespace aimo;
using Catch::Matchers::Contains;
using std::chrono::milliseconds;

namespace {
// Adds ARGV[1] to KEYS[1] only while the sum stays within ARGV[2]: 1 when reserved, else 0.
const std::string reserve_script = R"(
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
if spent + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return 0 end
redis.call('INCRBY', KEYS[1], ARGV[1])
return 1)";
} // namespace

TEST_CASE("commands and replies reach a real redis-server", "[state]") {
    test::RedisServer redis;
    state::RedisConnection connection(state::parse_redis_url(redis.url() + "/2"),
                                      milliseconds(2000));
    CHECK(connection.command({"PING"}).text == "PONG");
    CHECK(connection.command({"SET", "k", std::string("a\0b", 3)}).type ==
          state::RedisReply::Type::status);
    CHECK(connection.command({"GET", "k"}).text == std::string("a\0b", 3)); // binary-safe
    CHECK(connection.command({"GET", "missing"}).type == state::RedisReply::Type::nil);
    auto error = connection.command({"INCR", "k"});
    CHECK(error.type == state::RedisReply::Type::error);
    CHECK(connection.command({"RPUSH", "l", "x", "y"}).integer == 2);
    auto list = connection.command({"LRANGE", "l", "0", "-1"});
    REQUIRE(list.elements.size() == 2);
    CHECK(list.elements[1].text == "y");
    // SELECT 2 took effect: database 0 does not have the key.
    state::RedisConnection other(state::parse_redis_url(redis.url()), milliseconds(2000));
    CHECK(other.command({"EXISTS", "k"}).integer == 0);
}

TEST_CASE("a check-and-reserve script never lets concurrent clients pass the limit", "[state]") {
    test::RedisServer redis;
    auto address = state::parse_redis_url(redis.url());
    std::atomic<int> reserved{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
        clients.emplace_back([&] {
            state::RedisConnection connection(address, milliseconds(2000));
            for (int i = 0; i < 50; ++i) {
                reserved += static_cast<int>(
                    connection.eval(reserve_script, {"budget"}, {"3", "100"}).integer);
            }
        });
    }
    for (auto& client : clients) {
        client.join();
    }
    CHECK(reserved == 33); // 33 x 3 = 99: one more would pass 100
    state::RedisConnection check(address, milliseconds(2000));
    CHECK(check.command({"GET", "budget"}).text == "99");
}

TEST_CASE("an unreachable or lost state server is an error naming it, never its password",
          "[state]") {
    int port = 0;
    {
        test::RedisServer redis;
        port = redis.port();
        state::RedisConnection connection(state::parse_redis_url(redis.url()), milliseconds(2000));
        redis.kill();
        try {
            connection.command({"PING"});
            FAIL("no error after the server died");
        } catch (const core::Error& e) {
            CHECK(e.kind() == core::ErrorKind::upstream_unreachable);
            CHECK_THAT(e.what(), Contains("lost the state server redis://127.0.0.1:"));
        }
    }
    try {
        state::RedisConnection gone(
            state::parse_redis_url("redis://aimo:hunter2@127.0.0.1:" + std::to_string(port)),
            milliseconds(500));
        FAIL("connected to nothing");
    } catch (const core::Error& e) {
        CHECK(e.kind() == core::ErrorKind::upstream_unreachable);
        CHECK_THAT(e.what(), Contains("cannot reach the state server redis://aimo@127.0.0.1"));
        CHECK_THAT(e.what(), !Contains("hunter2"));
    }
}
