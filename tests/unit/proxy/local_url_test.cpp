#include "proxy/service.hpp"

#include <catch2/catch.hpp>

using namespace aimo;

TEST_CASE("the local proxy URL maps wildcard hosts to loopback and brackets IPv6", "[service]") {
    CHECK(proxy::local_proxy_url("127.0.0.1", 8080).join("/v1") == "http://127.0.0.1:8080/v1");
    CHECK(proxy::local_proxy_url("0.0.0.0", 9000).origin() == "http://127.0.0.1:9000");
    CHECK(proxy::local_proxy_url("::", 9000).origin() == "http://127.0.0.1:9000");
    CHECK(proxy::local_proxy_url("", 9000).origin() == "http://127.0.0.1:9000");
    CHECK(proxy::local_proxy_url("::1", 9000).join("/v1") == "http://[::1]:9000/v1");
    CHECK(proxy::local_proxy_url("localhost", 1).origin() == "http://localhost:1");
}
