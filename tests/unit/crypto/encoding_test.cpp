#include "crypto/encoding.hpp"

#include <catch2/catch.hpp>

using namespace aimo::crypto;

TEST_CASE("base58 matches the reference vectors", "[base58]") {
    CHECK(base58_encode("Hello World!") == "2NEpo7TZRRrLZSi2U");
    CHECK(base58_encode(std::string(32, '\0')) == std::string(32, '1'));
    CHECK(base58_encode("") == "");
    CHECK(base58_encode(std::string("\0\0\x01", 3)) == "112");
}

TEST_CASE("base58 decoding inverts encoding and rejects foreign characters", "[base58]") {
    auto decoded = base58_decode("2NEpo7TZRRrLZSi2U");
    REQUIRE(decoded);
    CHECK(std::string(decoded->begin(), decoded->end()) == "Hello World!");
    auto zeros = base58_decode(std::string(32, '1'));
    REQUIRE(zeros);
    CHECK(*zeros == std::vector<uint8_t>(32, 0));
    CHECK_FALSE(base58_decode("0OIl"));
}

TEST_CASE("base64 round-trips with padding", "[base64]") {
    CHECK(base64_encode("") == "");
    CHECK(base64_encode("f") == "Zg==");
    CHECK(base64_encode("fo") == "Zm8=");
    CHECK(base64_encode("foo") == "Zm9v");
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    CHECK(base64_decode("Zm9vYg==") == std::optional<std::string>("foob"));
    CHECK(base64_decode("Zm9vYmE=") == std::optional<std::string>("fooba"));
    CHECK_FALSE(base64_decode("Zm9"));
    CHECK_FALSE(base64_decode("Zm=v"));
    CHECK_FALSE(base64_decode("Zm9v!A=="));
}

TEST_CASE("hex round-trips and rejects bad digits", "[hex]") {
    auto bytes = hex_decode("00ff10");
    REQUIRE(bytes);
    CHECK(hex_encode(bytes->data(), bytes->size()) == "00ff10");
    CHECK_FALSE(hex_decode("0"));
    CHECK_FALSE(hex_decode("zz"));
}
