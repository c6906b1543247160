#include "proxy/body_scan.hpp"

#include <catch2/catch.hpp>

using namespace aimo;

TEST_CASE("the body scan finds model, stream and include_usage at the top level", "[body_scan]") {
    auto summary = proxy::scan_body(
        R"({"messages":[{"model":"inner","stream":false}],"model":"deepseek/deepseek-v3.2",
            "stream":true,"stream_options":{"include_usage":true},
            "tools":[{"function":{"name":"f","parameters":{"model":"nested"}}}]})");
    CHECK(summary.valid_json);
    CHECK(summary.is_object);
    CHECK(summary.model == "deepseek/deepseek-v3.2");
    CHECK(summary.stream);
    CHECK(summary.include_usage);
}

TEST_CASE("the body scan rejects what is not JSON", "[body_scan]") {
    for (const char* body : {"", "{", "{\"model\":}", "{} trailing", "\xff"}) {
        CAPTURE(body);
        auto summary = proxy::scan_body(body);
        CHECK_FALSE(summary.valid_json);
        CHECK_FALSE(summary.error.empty());
    }
    auto array = proxy::scan_body("[1]");
    CHECK(array.valid_json);
    CHECK_FALSE(array.is_object);
}
