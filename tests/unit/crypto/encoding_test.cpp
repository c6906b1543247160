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

TEST_CASE("sha256_hex matches the FIPS 180-2 examples", "[encoding]") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}
