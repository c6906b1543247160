// The HTTP front door under hostile or careless clients: bytes that are not UTF-8, pipelining,
// malformed heads, bodies past the limit, slow clients, idle connections and the connection cap.
#include "core/text.hpp"
#include "fake_router.hpp"
#include "http_helpers.hpp"
#include "proxy_fixture.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {
std::string post_head(size_t length, const std::string& extra = "") {
    return "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
           extra + "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

// Reads what the server sends on `fd` until it closes or `ms` pass.
std::string read_for(int fd, int ms) {
    std::string out;
    auto deadline = Clock::now() + milliseconds(ms);
    for (;;) {
        auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
        pollfd ready{fd, POLLIN, 0};
        if (left <= 0 || poll(&ready, 1, static_cast<int>(left)) <= 0) {
            return out;
        }
        char buffer[8192];
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
            return out;
        }
        out.append(buffer, static_cast<size_t>(n));
    }
}

// Reads from `fd` until one whole response has arrived (or `ms` pass).
std::vector<test::RawResponse> read_response(int fd, int ms) {
    std::string got;
    auto deadline = Clock::now() + milliseconds(ms);
    while (Clock::now() < deadline) {
        auto responses = test::split_responses(got);
        if (!responses.empty()) {
            return responses;
        }
        auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
        pollfd ready{fd, POLLIN, 0};
        char buffer[8192];
        ssize_t n = 0;
        if (poll(&ready, 1, static_cast<int>(std::max<long long>(left, 1))) <= 0 ||
            (n = recv(fd, buffer, sizeof buffer, 0)) <= 0) {
            break;
        }
        got.append(buffer, static_cast<size_t>(n));
    }
    return test::split_responses(got);
}

std::string error_code(const test::RawResponse& response) {
    return json::parse(response.body)["error"]["code"].get<std::string>();
}
} // namespace

TEST_CASE("bytes that are not UTF-8 get a clean answer and are logged escaped, in either log "
          "format",
          "[proxy][front_door]") {
    auto format = GENERATE(proxy::LogFormat::text, proxy::LogFormat::json);
    test::FakeRouter router;
    test::ProxyFixtureOptions options;
    options.log_format = format;
    test::ProxyFixture proxy(router.url(), options);
    std::string bad_model = R"({"model":"m)"
                            "\xff"
                            R"(","messages":[]})";
    struct Case {
        std::string request;
        int status;
        std::string code;
    };
    std::vector<Case> cases = {
        {"GET /%ff HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid_path"},
        {"G\xffT / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"},
        {"GET /v1/models/\xe9 HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bad_request"},
        {"GET /v1/%0a%0dx HTTP/1.1\r\nHost: x\r\n\r\n", 400, "invalid_path"},
        {"GET /health?q=%ff HTTP/1.1\r\nHost: x\r\n\r\n", 200, ""},
        {"GET /health HTTP/1.1\r\nHost: x\r\nX-Note: caf\xe9\r\n\r\n", 200, ""},
        {post_head(bad_model.size()) + bad_model, 400, "invalid_json"},
    };
    for (const auto& c : cases) {
        INFO(c.request);
        auto responses = test::split_responses(test::raw_send_all(proxy.port(), c.request));
        REQUIRE(responses.size() == 1);
        CHECK(responses[0].status == c.status);
        if (!c.code.empty()) {
            CHECK(error_code(responses[0]) == c.code);
        }
    }
    CHECK(test::http_get(proxy.port(), "/health").status == 200);
    CHECK(router.count("/api/v1/chat") == 0);

    auto log = proxy.stop_and_log();
    CHECK_THAT(log, Contains(format == proxy::LogFormat::json ? R"(G\\xffT)" : R"(G\xffT)"));
    CHECK(log.find('\xff') == std::string::npos);
    CHECK(log.find('\xe9') == std::string::npos);
    if (format == proxy::LogFormat::json) {
        size_t lines = 0;
        for (const auto& line : core::split_list(log, '\n')) {
            CHECK_NOTHROW(json::parse(line));
            ++lines;
        }
        CHECK(lines == cases.size() + 1);
    }
}

TEST_CASE("pipelined requests are all answered, in order", "[proxy][front_door]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    std::string body = R"({"model":"m"})";
    std::string bytes = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n" + post_head(body.size()) + body +
                        "\r\nGET /v1/nowhere HTTP/1.1\r\nHost: x\r\n\r\n";
    auto responses = test::split_responses(test::raw_send_all(proxy.port(), bytes));
    REQUIRE(responses.size() == 3);
    CHECK(responses[0].status == 200);
    CHECK(json::parse(responses[0].body)["status"] == "ok");
    CHECK(responses[1].status == 200);
    CHECK(json::parse(responses[1].body)["object"] == "chat.completion");
    CHECK(responses[2].status == 404);
    CHECK(router.count("/api/v1/chat/completions") == 1);
}

TEST_CASE("after a malformed request the connection closes and nothing after it is answered",
          "[proxy][front_door]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    for (std::string bytes : {
             std::string(
                 "NOT A REQUEST\r\nGET /health HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\n\r\n"),
             std::string(
                 "GET /health HTTP/1.1\r\nno colon here\r\n\r\nGET /health HTTP/1.1\r\n\r\n"),
             std::string("GET /health HTTP/1.1\r\n folded: header\r\n\r\n"),
             std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
             post_head(3, "Transfer-Encoding: chunked\r\n") + "abc",
         }) {
        INFO(bytes);
        std::string rest;
        auto responses = test::split_responses(test::raw_send_all(proxy.port(), bytes), &rest);
        REQUIRE(responses.size() == 1);
        int status = responses[0].status;
        CHECK((status == 400 || status == 505));
        CHECK(responses[0].header("Connection") == "close");
        CHECK(rest.empty());
    }
    CHECK(router.requests().empty());
}

TEST_CASE("the body limit holds for chunked bodies, and a huge Content-Length is refused "
          "before any body",
          "[proxy][front_door]") {
    test::FakeRouter router;
    test::ProxyFixtureOptions options;
    options.max_body_bytes = 4096;
    test::ProxyFixture proxy(router.url(), options);
    auto chunked = [](const std::string& body, size_t piece) {
        std::string out = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          "application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
        for (size_t at = 0; at < body.size(); at += piece) {
            auto part = body.substr(at, piece);
            out += fmt::format("{:x}\r\n{}\r\n", part.size(), part);
        }
        return out + "0\r\n\r\n";
    };
    SECTION("a chunked body past the limit is a 413 and never forwarded") {
        std::string big = R"({"model":"m","pad":")" + std::string(12'000, 'a') + R"("})";
        auto responses =
            test::split_responses(test::raw_send_all(proxy.port(), chunked(big, 1000)));
        REQUIRE(responses.size() == 1);
        CHECK(responses[0].status == 413);
        CHECK(error_code(responses[0]) == "request_too_large");
        CHECK(router.count("/api/v1/chat") == 0);
    }
    SECTION("a chunked body within the limit is forwarded whole") {
        std::string body = R"({"model":"m","pad":")" + std::string(3'000, 'b') + R"("})";
        auto responses = test::split_responses(test::raw_send_all(proxy.port(), chunked(body, 7)));
        REQUIRE(responses.size() == 1);
        CHECK(responses[0].status == 200);
        REQUIRE(router.count("/api/v1/chat") == 1);
        CHECK(router.requests().back().body == body);
    }
    SECTION("Content-Length: 5000000000 gets its 413 at once, with the body never sent") {
        int fd = test::connect_loopback(proxy.port());
        std::string head = post_head(5'000'000'000ULL);
        send(fd, head.data(), head.size(), MSG_NOSIGNAL);
        auto start = Clock::now();
        auto responses = test::split_responses(read_for(fd, 5000));
        close(fd);
        REQUIRE(responses.size() == 1);
        CHECK(responses[0].status == 413);
        CHECK(Clock::now() - start < milliseconds(2000));
    }
    SECTION("Expect: 100-continue is answered with 100, or with the 413 straight away") {
        std::string body = R"({"model":"m"})";
        int fd = test::connect_loopback(proxy.port());
        std::string head = post_head(body.size(), "Expect: 100-continue\r\n");
        send(fd, head.data(), head.size(), MSG_NOSIGNAL);
        std::string interim = read_for(fd, 300);
        CHECK(interim == "HTTP/1.1 100 Continue\r\n\r\n");
        send(fd, body.data(), body.size(), MSG_NOSIGNAL);
        shutdown(fd, SHUT_WR);
        auto responses = test::split_responses(read_for(fd, 5000));
        close(fd);
        REQUIRE(responses.size() == 1);
        CHECK(responses[0].status == 200);

        auto refused = test::split_responses(
            test::raw_send_all(proxy.port(), post_head(10'000, "Expect: 100-continue\r\n")));
        REQUIRE(refused.size() == 1);
        CHECK(refused[0].status == 413);
    }
}

TEST_CASE("a request head sent byte by byte is cut off at its deadline while /health answers",
          "[proxy][front_door]") {
    test::FakeRouter router;
    test::ProxyFixtureOptions options;
    options.header_timeout = milliseconds(600);
    test::ProxyFixture proxy(router.url(), options);
    int fd = test::connect_loopback(proxy.port());
    std::string head = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(100, 'a');
    auto start = Clock::now();
    std::string got;
    for (char c : head) {
        if (send(fd, &c, 1, MSG_NOSIGNAL) != 1) {
            break;
        }
        got += read_for(fd, 40); // also the pace of a slowloris client
        if (!got.empty()) {
            break;
        }
        if (Clock::now() - start > milliseconds(300)) {
            CHECK(test::http_get(proxy.port(), "/health", {}, 2).status == 200);
        }
    }
    got += read_for(fd, 2000);
    close(fd);
    auto responses = test::split_responses(got);
    REQUIRE(responses.size() == 1);
    CHECK(responses[0].status == 408);
    CHECK(error_code(responses[0]) == "request_timeout");
    CHECK(Clock::now() - start < milliseconds(2500));
}

TEST_CASE("idle keep-alive connections hold no thread and are closed after the idle timeout",
          "[proxy][front_door]") {
    test::FakeRouter router;
    test::ProxyFixtureOptions options;
    options.idle_timeout = milliseconds(1500);
    test::ProxyFixture proxy(router.url(), options);
    const std::string health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    std::vector<int> idle;
    for (int i = 0; i < 200; ++i) {
        int fd = test::connect_loopback(proxy.port());
        REQUIRE(fd >= 0);
        idle.push_back(fd);
        if (i % 2 == 0) { // half have been answered once (one at a time), half never sent a byte
            send(fd, health.data(), health.size(), MSG_NOSIGNAL);
            REQUIRE(read_response(fd, 2000).size() == 1);
        }
    }
    // No connection holds a worker once it waits: every worker goes back to the pool. (The
    // process's thread count is no measure: httplib says the fake router is running before
    // its 300-thread pool exists, so that pool may still be starting while this runs.)
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (proxy.busy_workers() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    CHECK(proxy.busy_workers() == 0);
    CHECK(test::http_get(proxy.port(), "/health", {}, 2).status == 200);
    // After the idle timeout the server has closed every one of them.
    for (int fd : idle) {
        char byte;
        pollfd ready{fd, POLLIN, 0};
        CHECK(poll(&ready, 1, 5000) == 1);
        CHECK(recv(fd, &byte, 1, 0) == 0);
        close(fd);
    }
}

TEST_CASE("a stopped server's idle workers end at once, not after their idle time",
          "[proxy][front_door]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    REQUIRE(test::http_get(proxy.port(), "/health", {}, 2).status == 200);
    CHECK(proxy.worker_threads() >= 1); // kept for the next request
    proxy.stop_and_log();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (proxy.worker_threads() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    CHECK(proxy.worker_threads() == 0);
}

TEST_CASE("past max_connections a client is refused with 503 while /health answers",
          "[proxy][front_door]") {
    test::FakeRouter router;
    test::ProxyFixtureOptions options;
    options.max_connections = 4;
    test::ProxyFixture proxy(router.url(), options);
    std::vector<std::unique_ptr<test::RawConnection>> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(std::make_unique<test::RawConnection>(proxy.port()));
        REQUIRE(held.back()
                    ->request("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                    .rfind("HTTP/1.1 200", 0) == 0);
    }
    std::string body = R"({"model":"m"})";
    auto refused =
        test::split_responses(test::raw_send_all(proxy.port(), post_head(body.size()) + body));
    REQUIRE(refused.size() == 1);
    CHECK(refused[0].status == 503);
    CHECK(error_code(refused[0]) == "too_many_connections");
    CHECK(refused[0].header("Retry-After") == "1");
    CHECK(refused[0].header("Connection") == "close");
    auto health = test::split_responses(
        test::raw_send_all(proxy.port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
    REQUIRE(health.size() == 1);
    CHECK(health[0].status == 200);
    CHECK(router.count("/api/v1/chat") == 0);

    held.pop_back(); // a slot frees up once the server sees the close
    int status = 0;
    for (int i = 0; i < 200 && status != 200; ++i) {
        auto answer =
            test::split_responses(test::raw_send_all(proxy.port(), post_head(body.size()) + body));
        status = answer.empty() ? 0 : answer[0].status;
    }
    CHECK(status == 200);
}

TEST_CASE("an HTTP/1.0 client gets its stream delimited by the connection's end",
          "[proxy][front_door]") {
    test::FakeRouter router;
    test::ProxyFixture proxy(router.url());
    std::string body = R"({"model":"m","stream":true})";
    std::string bytes = "POST /v1/chat/completions HTTP/1.0\r\nContent-Type: application/json\r\n"
                        "Content-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
    auto raw = test::raw_send_all(proxy.port(), bytes);
    CHECK(raw.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(raw.find("Transfer-Encoding") == std::string::npos);
    CHECK_THAT(raw, Contains("data: [DONE]"));
}
