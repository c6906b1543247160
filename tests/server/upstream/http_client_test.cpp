#include "core/error.hpp"
#include "scripted_server.hpp"
#include "upstream/http_client.hpp"

#include <catch2/catch.hpp>
#include <sys/socket.h>

using namespace aimo;
using Catch::Matchers::Contains;
using test::ScriptedServer;

namespace {
upstream::HttpRequest get(const std::string& target) {
    upstream::HttpRequest request;
    request.target = target;
    return request;
}

core::ErrorKind failure_kind(const std::function<void()>& action) {
    try {
        action();
    } catch (const core::Error& e) {
        return e.kind();
    }
    FAIL("no error");
    return core::ErrorKind::io;
}
} // namespace

TEST_CASE("chunked bodies decode across odd splits, with extensions and trailers",
          "[http_client]") {
    ScriptedServer server([](int fd, int) {
        for (int i = 0; i < 2; ++i) {
            if (ScriptedServer::read_request(fd).empty()) {
                return;
            }
            std::string response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n"
                                   "X-Trailer: t\r\n\r\n";
            for (char c : response) {
                ScriptedServer::write_all(fd, std::string(1, c));
            }
        }
    });
    upstream::ClientPool pool;
    auto url = upstream::parse_url(server.url(), "test");
    for (int i = 0; i < 2; ++i) {
        auto response = pool.send(url, get("/x"));
        CHECK(response.status == 200);
        CHECK(response.read_all(1000) == "hello world");
    }
    CHECK(pool.connections_opened() == 1);
}

TEST_CASE("a pooled connection the upstream closed is replaced transparently", "[http_client]") {
    ScriptedServer server([](int fd, int) {
        ScriptedServer::read_request(fd);
        ScriptedServer::write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        // then close, as a server whose keep-alive timeout expired would
    });
    upstream::ClientPool pool;
    auto url = upstream::parse_url(server.url(), "test");
    for (int i = 0; i < 3; ++i) {
        auto response = pool.send(url, get("/x"));
        CHECK(response.read_all(100) == "ok");
    }
    CHECK(server.accepted() == 3);
}

TEST_CASE("Connection: close and read-until-close bodies are not reused", "[http_client]") {
    ScriptedServer server([](int fd, int index) {
        ScriptedServer::read_request(fd);
        ScriptedServer::write_all(fd, index == 0 ? "HTTP/1.1 200 OK\r\nConnection: close\r\n"
                                                   "Content-Length: 3\r\n\r\none"
                                                 : "HTTP/1.0 200 OK\r\n\r\nuntil close");
    });
    upstream::ClientPool pool;
    auto url = upstream::parse_url(server.url(), "test");
    CHECK(pool.send(url, get("/a")).read_all(100) == "one");
    CHECK(pool.send(url, get("/b")).read_all(100) == "until close");
    CHECK(pool.connections_opened() == 2);
}

TEST_CASE("upstream failures become typed errors", "[http_client]") {
    upstream::ClientPool pool({std::chrono::milliseconds(1000), std::chrono::milliseconds(200)});
    SECTION("refused connection") {
        CHECK(failure_kind([&] {
                  pool.send(upstream::parse_url("http://127.0.0.1:1", "t"), get("/"));
              }) == core::ErrorKind::upstream_unreachable);
    }
    SECTION("not HTTP") {
        ScriptedServer server([](int fd, int) {
            ScriptedServer::read_request(fd);
            ScriptedServer::write_all(fd, "SSH-2.0-OpenSSH\r\n\r\n");
        });
        CHECK(failure_kind([&] { pool.send(upstream::parse_url(server.url(), "t"), get("/")); }) ==
              core::ErrorKind::upstream_protocol);
    }
    SECTION("silence") {
        ScriptedServer server([](int fd, int) {
            ScriptedServer::read_request(fd);
            char c;
            recv(fd, &c, 1, 0); // wait until the client gives up
        });
        CHECK(failure_kind([&] { pool.send(upstream::parse_url(server.url(), "t"), get("/")); }) ==
              core::ErrorKind::upstream_timeout);
    }
    SECTION("a body cut short") {
        ScriptedServer server([](int fd, int) {
            ScriptedServer::read_request(fd);
            ScriptedServer::write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        });
        auto response = pool.send(upstream::parse_url(server.url(), "t"), get("/"));
        CHECK(failure_kind([&] { response.read_all(100); }) ==
              core::ErrorKind::upstream_unreachable);
    }
}

TEST_CASE("the request carries Host, headers, Content-Length and the body", "[http_client]") {
    std::string seen;
    ScriptedServer server([&](int fd, int) {
        seen = ScriptedServer::read_request(fd);
        ScriptedServer::write_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
    });
    upstream::ClientPool pool;
    upstream::HttpRequest request;
    request.method = "POST";
    request.target = "/api/v1/x?y=1";
    request.headers = {{"X-A", "b"}};
    request.body = "{\"k\":1}";
    auto response = pool.send(upstream::parse_url(server.url(), "t"), request);
    CHECK(response.status == 204);
    CHECK(response.read_all(10).empty());
    CHECK_THAT(seen, Contains("POST /api/v1/x?y=1 HTTP/1.1\r\n"));
    CHECK_THAT(seen, Contains("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"));
    CHECK_THAT(seen, Contains("X-A: b\r\n") && Contains("Content-Length: 7\r\n"));
    CHECK_THAT(seen, Contains("\r\n\r\n{\"k\":1}"));
}
