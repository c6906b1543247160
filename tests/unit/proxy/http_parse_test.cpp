#include "mutate.hpp"
#include "proxy/http_parse.hpp"

#include <catch2/catch.hpp>

using namespace aimo;
using proxy::ChunkedDecoder;
using proxy::HttpError;
using proxy::RequestHead;

namespace {
std::variant<RequestHead, HttpError> parse(const std::string& head) {
    return proxy::parse_request_head(head);
}
int status_of(const std::string& head) {
    auto parsed = parse(head);
    auto* error = std::get_if<HttpError>(&parsed);
    return error ? error->status : 0;
}
} // namespace

TEST_CASE("a head ends at its first empty line, with CRLF or bare LF line ends", "[http_parse]") {
    CHECK(proxy::find_head_end("GET / HTTP/1.1\r\nHost: x\r\n\r\nrest") == 27);
    CHECK(proxy::find_head_end("GET / HTTP/1.1\nHost: x\n\nrest") == 24);
    CHECK(proxy::find_head_end("GET / HTTP/1.1\r\nHost: x\r\n") == 0);
    CHECK(proxy::find_head_end("GET / HTTP/1.1\r\nHost: x\r\n\r") == 0);
    CHECK(proxy::leading_blank_lines("\r\n\r\nGET") == 4);
}

TEST_CASE("a valid head gives method, decoded path, raw query, headers and framing",
          "[http_parse]") {
    auto parsed = parse("POST /v1/models/a%2Fb?x=%41&y HTTP/1.1\r\nHost: h\r\n"
                        "Content-Length: 12\r\nX-Note:  caf\xc3\xa9 \r\n\r\n");
    REQUIRE(std::holds_alternative<RequestHead>(parsed));
    auto& head = std::get<RequestHead>(parsed);
    CHECK(head.method == "POST");
    CHECK(head.path == "/v1/models/a/b");
    CHECK(head.query == "x=%41&y");
    CHECK(head.body == RequestHead::Body::length);
    CHECK(head.content_length == 12);
    CHECK(head.keep_alive);
    REQUIRE(head.headers.size() == 3);
    CHECK(head.headers[2].second == "caf\xc3\xa9");

    auto absolute =
        std::get<RequestHead>(parse("GET http://127.0.0.1:8080/health HTTP/1.1\r\n\r\n"));
    CHECK(absolute.path == "/health");
    auto old = std::get<RequestHead>(parse("GET / HTTP/1.0\r\n\r\n"));
    CHECK_FALSE(old.keep_alive);
    auto old_kept =
        std::get<RequestHead>(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    CHECK(old_kept.keep_alive);
    auto closing = std::get<RequestHead>(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
    CHECK_FALSE(closing.keep_alive);
    auto chunked = std::get<RequestHead>(
        parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"));
    CHECK(chunked.body == RequestHead::Body::chunked);
    CHECK(chunked.expect_continue);
    auto same_twice = std::get<RequestHead>(
        parse("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"));
    CHECK(same_twice.content_length == 5);
}

TEST_CASE("malformed, ambiguous or unsupported heads are refused with the right status",
          "[http_parse]") {
    CHECK(status_of("G\xffT / HTTP/1.1\r\n\r\n") == 400);
    CHECK(status_of("GET  / HTTP/1.1\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1 extra\r\n\r\n") == 400);
    CHECK(status_of("GET /\xff HTTP/1.1\r\n\r\n") == 400);
    CHECK(status_of("GET /%ff HTTP/1.1\r\n\r\n") == 400);
    CHECK(status_of("GET /%zz HTTP/1.1\r\n\r\n") == 400);
    CHECK(status_of("GET /a%00b HTTP/1.1\r\n\r\n") == 400);
    CHECK(status_of("GET relative HTTP/1.1\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/2.0\r\n\r\n") == 505);
    CHECK(status_of("GET / FTP/1.1\r\n\r\n") == 400);
    CHECK(status_of("GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n") == 414);
    CHECK(status_of("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1\r\nName : x\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1\r\nA: b\r\n  folded\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1\r\nA: b\x01\r\n\r\n") == 400);
    CHECK(status_of("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n") ==
          400);
    CHECK(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == 501);
    CHECK(status_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
    CHECK(status_of("POST / HTTP/1.1\r\nExpect: magic\r\n\r\n") == 417);
    CHECK(status_of("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Encoding: gzip\r\n\r\n") ==
          415);
    std::string many = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 200; ++i) {
        many += "X-" + std::to_string(i) + ": y\r\n";
    }
    CHECK(status_of(many + "\r\n") == 431);
}

TEST_CASE("mutated heads never throw and always parse or say why not", "[http_parse]") {
    const std::vector<std::string> seeds = {
        "GET /v1/models HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer aimo_x\r\n\r\n",
        "POST /v1/chat/completions?a=b HTTP/1.1\r\nContent-Length: 10\r\nExpect: "
        "100-continue\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: "
        "close\r\n\r\n",
    };
    std::mt19937 random(20261201);
    const std::string alphabet("\r\n :%\xff\x00\t/?ab09,;-\x7f\xc3", 19);
    for (int i = 0; i < 20000; ++i) {
        auto text = test::mutate(seeds[i % seeds.size()], random, alphabet);
        size_t end = proxy::find_head_end(text);
        std::variant<RequestHead, HttpError> parsed;
        REQUIRE_NOTHROW(parsed = parse(text.substr(0, end == 0 ? text.size() : end)));
        if (auto* error = std::get_if<HttpError>(&parsed)) {
            CHECK(error->status >= 400);
            CHECK(error->status <= 505);
            CHECK_FALSE(error->message.empty());
        } else {
            auto& head = std::get<RequestHead>(parsed);
            CHECK_FALSE(head.method.empty());
            CHECK((head.path.front() == '/' || head.path == "*"));
        }
    }
}

TEST_CASE("chunked bodies decode the same however they are split", "[http_parse]") {
    const std::string wire = "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\nNEXT";
    for (size_t piece : {size_t(1), size_t(2), size_t(3), size_t(7), wire.size()}) {
        ChunkedDecoder decoder(1000);
        std::string out;
        std::string pending;
        ChunkedDecoder::Status status = ChunkedDecoder::Status::more;
        size_t fed = 0;
        while (status == ChunkedDecoder::Status::more && fed < wire.size()) {
            pending += wire.substr(fed, piece);
            fed += piece;
            size_t used = 0;
            status = decoder.feed(pending, out, used);
            pending.erase(0, used);
        }
        INFO(piece);
        CHECK(status == ChunkedDecoder::Status::done);
        CHECK(out == "hello, world");
        CHECK(pending + (fed < wire.size() ? wire.substr(fed) : "") == "NEXT");
    }
    auto run = [](const std::string& text, uint64_t limit) {
        ChunkedDecoder decoder(limit);
        std::string out;
        size_t used = 0;
        return decoder.feed(text, out, used);
    };
    CHECK(run("zz\r\n", 100) == ChunkedDecoder::Status::error);
    CHECK(run("5\r\nhelloX", 100) == ChunkedDecoder::Status::error);
    CHECK(run("ffffffffffffffffff\r\n", 100) == ChunkedDecoder::Status::error);
    CHECK(run("65\r\n", 100) == ChunkedDecoder::Status::too_large);
    CHECK(run("40\r\n" + std::string(64, 'a') + "\r\n40\r\n", 100) ==
          ChunkedDecoder::Status::too_large);
    CHECK(run(std::string(9000, '1'), 1ULL << 40) == ChunkedDecoder::Status::error);
}
