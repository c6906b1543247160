#include "core/error.hpp"
#include "core/fs.hpp"
#include "crypto/encoding.hpp"
#include "crypto/keypair.hpp"
#include "temp_dir.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

using namespace aimo;
using Catch::Matchers::Contains;

namespace {
void write(const std::filesystem::path& path, const std::string& text, mode_t mode = 0600) {
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
}

std::string error_of(const std::filesystem::path& path) {
    try {
        crypto::load_keypair(path);
    } catch (const core::Error& e) {
        return std::string(e.what()) + " | " + e.hint();
    }
    return "no error";
}

std::string array_of(int count, int value) {
    std::string out = "[";
    for (int i = 0; i < count; ++i) {
        out += (i ? "," : "") + std::to_string(value);
    }
    return out + "]";
}
} // namespace

TEST_CASE("the RFC 8032 seed gives the published public key and address", "[keypair]") {
    auto keypair = test::rfc8032_keypair();
    CHECK(crypto::hex_encode(keypair.public_key().data(), 32) == test::rfc8032_public_hex);
    CHECK(keypair.address() == test::rfc8032_address);
}

TEST_CASE("a saved keypair is compact Solana JSON, mode 0600, in a 0700 directory", "[keypair]") {
    test::TempDir dir;
    auto path = dir / "nested/aimo/keypair.json";
    auto keypair = test::rfc8032_keypair();
    crypto::save_keypair(path, keypair, false);

    std::string text = core::read_file(path);
    CHECK(text.find(' ') == std::string::npos);
    auto json = nlohmann::json::parse(text);
    REQUIRE(json.size() == 64);
    CHECK(json[0] == 0x9d);
    CHECK(json[32] == 0xd7);
    CHECK(core::file_mode(path) == 0600);
    CHECK(core::file_mode(path.parent_path()) == 0700);

    auto loaded = crypto::load_keypair(path);
    CHECK(loaded.keypair.address() == test::rfc8032_address);
    CHECK(loaded.warnings.empty());
}

TEST_CASE("an existing keypair is never overwritten without force", "[keypair]") {
    test::TempDir dir;
    auto path = dir / "keypair.json";
    auto first = crypto::Keypair::generate();
    crypto::save_keypair(path, first, false);
    auto second = crypto::Keypair::generate();
    REQUIRE(first.address() != second.address());

    try {
        crypto::save_keypair(path, second, false);
        FAIL("expected an error");
    } catch (const core::Error& e) {
        CHECK(e.kind() == core::ErrorKind::already_exists);
        CHECK_THAT(e.hint(), Contains("--force"));
    }
    CHECK(crypto::load_keypair(path).keypair.address() == first.address());
    crypto::save_keypair(path, second, true);
    CHECK(crypto::load_keypair(path).keypair.address() == second.address());
}

TEST_CASE("each kind of bad keypair file is reported with what is wrong", "[keypair]") {
    test::TempDir dir;
    auto path = dir / "keypair.json";

    SECTION("missing file points at aimo keygen") {
        CHECK_THAT(error_of(path), Contains("no keypair at") && Contains("aimo keygen"));
    }
    SECTION("not JSON") {
        write(path, "[1, 2, oops");
        CHECK_THAT(error_of(path), Contains("is not valid JSON"));
    }
    SECTION("not an array") {
        write(path, R"({"secret":[1,2]})");
        CHECK_THAT(error_of(path), Contains("holds a JSON object, not an array"));
    }
    SECTION("wrong length") {
        write(path, array_of(63, 1));
        CHECK_THAT(error_of(path), Contains("holds 63 numbers; expected 64"));
    }
    SECTION("value out of range") {
        write(path, array_of(63, 1).substr(0, array_of(63, 1).size() - 1) + ",256]");
        CHECK_THAT(error_of(path), Contains("element 63 is 256, outside 0-255"));
    }
    SECTION("negative value") {
        write(path, "[-1," + array_of(63, 1).substr(1));
        CHECK_THAT(error_of(path), Contains("element 0 is -1, outside 0-255"));
    }
    SECTION("not an integer") {
        write(path, "[1.5," + array_of(63, 1).substr(1));
        CHECK_THAT(error_of(path), Contains("element 0 is 1.5, not an integer"));
    }
    SECTION("public half does not match the seed") {
        auto json = nlohmann::json::parse(test::rfc8032_keypair().to_file_json());
        json[40] = (json[40].get<int>() + 1) % 256;
        write(path, json.dump());
        CHECK_THAT(error_of(path), Contains("bytes 32-63 are not the public key"));
    }
}

TEST_CASE("a keypair readable by others loads with a warning", "[keypair]") {
    test::TempDir dir;
    auto path = dir / "keypair.json";
    write(path, test::rfc8032_keypair().to_file_json(), 0644);
    auto loaded = crypto::load_keypair(path);
    CHECK(loaded.keypair.address() == test::rfc8032_address);
    REQUIRE(loaded.warnings.size() == 1);
    CHECK_THAT(loaded.warnings[0], Contains("mode 0644") && Contains("chmod 600"));
}

TEST_CASE("signatures verify only for the signed message", "[keypair]") {
    auto keypair = crypto::Keypair::generate();
    auto signature = keypair.sign("hello");
    CHECK(crypto::verify_signature(keypair.public_key(), "hello", signature));
    CHECK_FALSE(crypto::verify_signature(keypair.public_key(), "hellO", signature));
}
