#include "mutate.hpp"
#include "openai/request.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>

using namespace aimo;

TEST_CASE("the body scan finds model, stream and include_usage at the top level", "[body_scan]") {
    auto summary = openai::scan_body(
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
        auto summary = openai::scan_body(body);
        CHECK_FALSE(summary.valid_json);
        CHECK_FALSE(summary.error.empty());
    }
    auto array = openai::scan_body("[1]");
    CHECK(array.valid_json);
    CHECK_FALSE(array.is_object);
}

TEST_CASE("the body scan agrees with a reference parser on mutated inputs", "[body_scan]") {
    const std::string seed =
        R"({"model":"m\u00e9\"x","stream":true,"stream_options":{"include_usage":false},)"
        R"("n":[0,-1.5e+3,1E2,0.25,true,false,null,{}],"s":"tab\t\\ \/ \ud83d\ude00 é 日本"})";
    REQUIRE(nlohmann::json::accept(seed));
    auto summary = openai::scan_body(seed);
    REQUIRE(summary.valid_json);
    CHECK(summary.model == "m\xc3\xa9\"x");
    CHECK(summary.stream);
    CHECK_FALSE(summary.include_usage);

    std::mt19937 random(12345);
    const std::string alphabet = "{}[]\",:.-+eE0123456789tfnrul\\ \t\n\x01\xc3\xa9\xff";
    for (int i = 0; i < 20000; ++i) {
        std::string text = test::mutate(seed, random, alphabet);
        CAPTURE(text);
        REQUIRE(openai::scan_body(text).valid_json == nlohmann::json::accept(text));
    }
}

TEST_CASE("the largest completion limit counts, and every one can be lowered", "[body_scan]") {
    std::string body = R"( {"max_completion_tokens":9000,"model":"m","max_tokens":5,)"
                       R"("max_output_tokens":null,"nested":{"max_tokens":99999}})";
    auto summary = openai::scan_body(body);
    CHECK(summary.max_tokens == 9000);
    CHECK(summary.max_tokens_at.size() == 3);
    auto capped = nlohmann::json::parse(openai::with_max_tokens(body, summary, 100, "max_tokens"));
    CHECK(capped["max_completion_tokens"] == 100);
    CHECK(capped["max_tokens"] == 5); // already within the limit: kept
    CHECK(capped["max_output_tokens"] == 100);
    CHECK(capped["nested"]["max_tokens"] == 99999);
    CHECK(capped["model"] == "m");

    for (const std::string& plain : {std::string(R"({"model":"m"})"), std::string("{ }")}) {
        auto added =
            openai::with_max_tokens(plain, openai::scan_body(plain), 42, "max_output_tokens");
        auto parsed = nlohmann::json::parse(added);
        CHECK(parsed["max_output_tokens"] == 42);
        CHECK(parsed.size() == (plain.size() > 4 ? 2u : 1u));
    }
    CHECK(openai::scan_body(R"({"max_tokens":-3})").max_tokens == -1);
    CHECK(openai::scan_body(R"({"max_tokens":1e300})").max_tokens == 1'000'000'000'000);
}
