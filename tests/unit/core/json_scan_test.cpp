#include "core/json_scan.hpp"
#include "mutate.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <vector>

using namespace aimo;

namespace {
// Records what the scanner reports for the values it was asked about (every one here).
struct Recorder {
    std::vector<std::string> seen;
    int key(int, int depth, std::string_view key) {
        seen.push_back("key " + std::to_string(depth) + " " + std::string(key));
        return 1;
    }
    void object(int, int depth) { seen.push_back("object " + std::to_string(depth)); }
    void array(int, bool empty) { seen.push_back(empty ? "array empty" : "array"); }
    void string(int, std::string_view token) { seen.push_back("string " + std::string(token)); }
    void number(int, std::string_view token) { seen.push_back("number " + std::string(token)); }
    void literal(int, std::string_view token) { seen.push_back("literal " + std::string(token)); }
};

bool valid(std::string_view text, std::string* error = nullptr) {
    Recorder recorder;
    core::JsonScan<Recorder> scan(text, recorder);
    bool ok = scan.run(1);
    if (error != nullptr) {
        *error = scan.error();
    }
    return ok;
}
} // namespace

TEST_CASE("the scanner reports the values asked for, tokens as written", "[json_scan]") {
    Recorder recorder;
    std::string text = R"( {"a":[1,{"b":"x\u00e9"}],"c":true,"d":-1.5e3,"e":null,"f":[]} )";
    core::JsonScan<Recorder> scan(text, recorder);
    REQUIRE(scan.run(1));
    CHECK(recorder.seen == std::vector<std::string>{"object 1", "key 1 a", "array", "key 1 c",
                                                    "literal true", "key 1 d", "number -1.5e3",
                                                    "key 1 e", "literal null", "key 1 f",
                                                    "array empty"});
}

TEST_CASE("the scanner refuses what is not strict JSON, saying where", "[json_scan]") {
    std::string error;
    for (std::string bad : {"", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "1e", "tru", "\"\\x\"",
                            "\"a\tb\"", "\"\xff\"", "\"\xed\xa0\x80\"", "\"\\ud800\"",
                            "\"\\udc00\"", "1e999", "{} {}", "{'a':1}", "[1 2]"}) {
        INFO(bad);
        CHECK_FALSE(valid(bad, &error));
        CHECK(error.rfind("at byte ", 0) == 0);
    }
    CHECK(valid("\"\\ud83d\\ude00 \xf0\x9f\x98\x80\""));
    CHECK(valid(std::string(512, '[') + std::string(512, ']')));
    CHECK_FALSE(valid(std::string(513, '[') + std::string(513, ']'), &error));
    CHECK(error.find("too deep") != std::string::npos);
}

TEST_CASE("the scanner agrees with a reference parser on mutated documents", "[json_scan]") {
    const std::string seed =
        R"({"model":"m","n":[1,-2.5e3,0.0,true,false,null],"s":"a\"\\\/\b\f\n\r\t\u00e9",)"
        R"("o":{"p":{},"q":[]}})";
    std::mt19937 random(7);
    const std::string alphabet = "{}[]\",:.-+eE0123456789tfnrul\\ \x01\xc3\xa9\xff";
    for (int i = 0; i < 20000; ++i) {
        auto text = test::mutate(seed, random, alphabet);
        INFO(text);
        REQUIRE(valid(text) == nlohmann::json::accept(text));
    }
}
