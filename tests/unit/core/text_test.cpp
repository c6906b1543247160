#include "core/text.hpp"

#include <catch2/catch.hpp>

using namespace aimo::core;

TEST_CASE("text helpers: case, lists and simple names", "[text]") {
    CHECK(iequals("Authorization", "authorization"));
    CHECK_FALSE(iequals("Bearer", "Bearer "));
    CHECK(to_lower("Content-Type: X") == "content-type: x");
    CHECK(split_list("a,,b,", ',') == std::vector<std::string>{"a", "b"});
    CHECK(split_list("/usr/bin::/bin", ':') == std::vector<std::string>{"/usr/bin", "/bin"});
    CHECK(split_list("", ',').empty());
    CHECK(is_simple_name("ollama-2.local_x"));
    CHECK_FALSE(is_simple_name(""));
    CHECK_FALSE(is_simple_name("a b"));
    CHECK_FALSE(is_simple_name("a/b"));
}
