#include "core/error.hpp"
#include "state/redis_url.hpp"

#include <catch2/catch.hpp>

using namespace aimo;
using Catch::Matchers::Contains;

namespace {
std::string error_of(const std::string& url) {
    try {
        state::parse_redis_url(url);
    } catch (const core::Error& e) {
        CHECK_FALSE(e.hint().empty());
        return std::string(e.what()) + " / " + e.hint();
    }
    FAIL("no error for " << url);
    return "";
}
} // namespace

TEST_CASE("state server URLs name a host, port, database and credentials", "[state]") {
    auto plain = state::parse_redis_url("redis://127.0.0.1");
    CHECK(plain.host == "127.0.0.1");
    CHECK(plain.port == 6379);
    CHECK(plain.db == 0);
    CHECK(plain.socket.empty());

    auto full = state::parse_redis_url("redis://aimo:p%40ss:w@redis.lan:6380/3");
    CHECK(full.user == "aimo");
    CHECK(full.password == "p@ss:w");
    CHECK(full.host == "redis.lan");
    CHECK(full.port == 6380);
    CHECK(full.db == 3);
    CHECK(full.display() == "redis://aimo@redis.lan:6380/3"); // never the password

    auto v6 = state::parse_redis_url("redis://[::1]:7000/");
    CHECK(v6.host == "::1");
    CHECK(v6.port == 7000);

    auto socket = state::parse_redis_url("unix://:secret@/run/redis/redis.sock?db=2");
    CHECK(socket.socket == "/run/redis/redis.sock");
    CHECK(socket.password == "secret");
    CHECK(socket.db == 2);
    CHECK(socket.display() == "unix:///run/redis/redis.sock?db=2");
}

TEST_CASE("bad state server URLs say what is wrong and never echo a password", "[state]") {
    CHECK_THAT(error_of("rediss://h:6380"), Contains("no TLS") && Contains("stunnel"));
    CHECK_THAT(error_of("http://h"), Contains("not a redis:// or unix:// URL"));
    CHECK_THAT(error_of("mysql://u:hunter2@h"), !Contains("hunter2"));
    CHECK_THAT(error_of("redis://h:99999"), Contains("port '99999'"));
    CHECK_THAT(error_of("redis://h/16"), Contains("database '16'"));
    CHECK_THAT(error_of("redis://:6379"), Contains("no host"));
    CHECK_THAT(error_of("unix://relative.sock"), Contains("absolute"));
    CHECK_THAT(error_of("unix:///r.sock?timeout=1"), Contains("unknown parameter"));
}
