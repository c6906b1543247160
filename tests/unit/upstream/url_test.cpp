#include "core/error.hpp"
#include "upstream/url.hpp"

#include <catch2/catch.hpp>

using namespace aimo;

TEST_CASE("URLs split into scheme, host, port and path", "[url]") {
    auto url = upstream::parse_url("https://beta.aimo.network", "router URL");
    CHECK(url.scheme == "https");
    CHECK(url.host == "beta.aimo.network");
    CHECK(url.port == 443);
    CHECK(url.authority() == "beta.aimo.network");
    CHECK(url.join("/api/v1/models") == "https://beta.aimo.network/api/v1/models");

    auto local = upstream::parse_url("http://127.0.0.1:8081/prefix/", "router URL");
    CHECK(local.port == 8081);
    CHECK(local.authority() == "127.0.0.1:8081");
    CHECK(local.join("/api/v1/x") == "http://127.0.0.1:8081/prefix/api/v1/x");

    auto v6 = upstream::parse_url("http://[::1]:9000", "router URL");
    CHECK(v6.host == "::1");
    CHECK(v6.authority() == "[::1]:9000");
    CHECK(upstream::parse_url("http://[::1]", "x").port == 80);
}

TEST_CASE("bad URLs are usage errors that say why", "[url]") {
    for (const char* bad : {"beta.aimo.network", "ftp://x", "http://", "http://x:0",
                            "http://x:99999", "http://x:abc", "http://x/?q=1", "http://user@x"}) {
        CAPTURE(bad);
        try {
            upstream::parse_url(bad, "router URL");
            FAIL("accepted");
        } catch (const core::Error& e) {
            CHECK(e.kind() == core::ErrorKind::usage);
            CHECK(std::string(e.what()).find("invalid router URL") == 0);
        }
    }
}
