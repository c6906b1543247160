#include "core/error.hpp"
#include "core/json.hpp"
#include "openclaw/json5.hpp"

#include <catch2/catch.hpp>
#include <cmath>

using namespace aimo;
using Catch::Matchers::Contains;

TEST_CASE("JSON5 syntax is read and key order is kept", "[json5]") {
    auto json = openclaw::parse_json5(R"(// leading comment
{
  /* block
     comment */
  zeta: 1,
  alpha: 'single \'quoted\'',
  "quoted key": "${OPENCLAW_TOKEN}",
  $dollar_key: 0x1F,
  list: [1, 2, 3,],
  half: .5, trailing: 5., plus: +3, big: 1e3,
  inf: Infinity, neg: -Infinity,
  cont: 'one \
two',
  esc: "\x41\u00e9\n",
  nested: { ok: true, nothing: null, },
})",
                                      "test.json5");
    std::vector<std::string> keys;
    for (auto& [key, value] : json.items()) {
        keys.push_back(key);
    }
    CHECK(keys.front() == "zeta");
    CHECK(keys[1] == "alpha");
    CHECK(json["alpha"] == "single 'quoted'");
    CHECK(json["quoted key"] == "${OPENCLAW_TOKEN}");
    CHECK(json["$dollar_key"] == 31);
    CHECK(json["list"].size() == 3);
    CHECK(json["half"] == 0.5);
    CHECK(json["trailing"] == 5.0);
    CHECK(json["plus"] == 3);
    CHECK(json["big"] == 1000.0);
    CHECK(std::isinf(json["inf"].get<double>()));
    CHECK(json["neg"].get<double>() < 0);
    CHECK(json["cont"] == "one two");
    CHECK(json["esc"] == "A\xc3\xa9\n");
    CHECK(json["nested"]["ok"] == true);
    CHECK(json["nested"]["nothing"].is_null());
}

TEST_CASE("JSON5 errors give the line and column", "[json5]") {
    auto error_of = [](const char* text) {
        try {
            openclaw::parse_json5(text, "cfg.json");
        } catch (const core::Error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(error_of("{\n  a: 1,\n  b: ,\n}"), Contains("cfg.json:3:6: expected a value"));
    CHECK_THAT(error_of("{ a: 'x }"), Contains("cfg.json:1:10: unterminated string"));
    CHECK_THAT(error_of("{ a: 1 } x"), Contains("unexpected text after the end"));
    CHECK_THAT(error_of("{ a 1 }"), Contains("expected ':'"));
    CHECK_THAT(error_of("/* open"), Contains("unterminated /* comment"));
    CHECK_THAT(error_of(""), Contains("cfg.json:1:1: unexpected end of file"));
}

TEST_CASE("bytes that are not UTF-8 and broken escapes are errors with a position, never an "
          "abort",
          "[json5]") {
    auto error_of = [](const std::string& text) {
        try {
            auto value = openclaw::parse_json5(text, "cfg.json");
            return "parsed: " + core::json_text(value);
        } catch (const core::Error& e) {
            return std::string(e.what());
        }
    };
    CHECK_THAT(error_of("{ a: \"\xe9\" }"), Contains("cfg.json:1:7: byte 0xe9 is not valid UTF-8"));
    CHECK_THAT(error_of("{\n \xff: 1 }"), Contains("cfg.json:2:"));
    CHECK_THAT(error_of("{ a: '\\udc00' }"), Contains("lone low surrogate"));
    CHECK_THAT(error_of("{ a: '\\ud800x' }"), Contains("without its low half"));
    CHECK_THAT(error_of("{ a: '\\ud800\\u0041' }"), Contains("without its low half"));
    CHECK(error_of("{ a: 'caf\xc3\xa9 \\ud83d\\ude00' }") ==
          "parsed: {\"a\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}");
    CHECK(error_of("{ big: 0xffffffffffffffffff, huge: 123456789012345678901234 }") ==
          "parsed: {\"big\":4.722366482869645e+21,\"huge\":1.2345678901234569e+23}");
}

TEST_CASE("a config whose top level is not an object names the file", "[json5]") {
    try {
        openclaw::parse_json5_object("[1,2,3]", "/home/u/.openclaw/openclaw.json");
        FAIL("no error");
    } catch (const core::Error& e) {
        CHECK_THAT(e.what(), Contains("/home/u/.openclaw/openclaw.json: not a JSON object") &&
                                 Contains("array"));
    }
}
