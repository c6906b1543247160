#include "crypto/encoding.hpp"
#include "crypto/siwx.hpp"
#include "vectors.hpp"

#include <catch2/catch.hpp>
#include <ctime>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <random>

using namespace aimo;

namespace {
crypto::SiwxMessage vector_message() {
    crypto::SiwxMessage m;
    m.domain = "beta.aimo.network";
    m.address = test::rfc8032_address;
    m.uri = "https://beta.aimo.network/api/v1/chat/completions";
    m.chain_id = std::string(crypto::mainnet_chain_id);
    m.expiration_time = "2026-02-11T05:00:00.000Z";
    return m;
}

std::string signature_of(const std::string& header) {
    return nlohmann::json::parse(crypto::base64_decode(header).value())["signature"];
}

std::chrono::system_clock::time_point parse_utc(int y, int mo, int d, int h, int mi) {
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}
} // namespace

TEST_CASE("the SIWx message has the router's exact layout", "[siwx]") {
    CHECK(crypto::format_siwx_message(vector_message()) ==
          "beta.aimo.network wants you to sign in with your Solana account:\n"
          "FVen3X669xLzsi6N2V91DoiyzHzg1uAgqiT8jZ9nS96Z\n"
          "\n"
          "URI: https://beta.aimo.network/api/v1/chat/completions\n"
          "Version: 1\n"
          "Chain ID: solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp\n"
          "Expiration Time: 2026-02-11T05:00:00.000Z");
}

TEST_CASE("the header reproduces the published vector byte for byte", "[siwx]") {
    auto header = crypto::siwx_header_value(test::rfc8032_keypair(), vector_message());
    CHECK(
        signature_of(header) ==
        "4SfNosyHLF8ujjM9eEZ7uXXQn4r5YZ4BK61dnJQ2cZ364yPT1M6sN5FRW71VftXnkV7m7nfAw8HDdYZ6xT7JX69A");
    CHECK(header ==
          "eyJtZXNzYWdlIjoiYmV0YS5haW1vLm5ldHdvcmsgd2FudHMgeW91IHRvIHNpZ24gaW4gd2l0aCB5b3VyIFNvbG"
          "FuYSBhY2NvdW50OlxuRlZlbjNYNjY5eEx6c2k2TjJWOTFEb2l5ekh6ZzF1QWdxaVQ4alo5blM5NlpcblxuVVJJ"
          "OiBodHRwczovL2JldGEuYWltby5uZXR3b3JrL2FwaS92MS9jaGF0L2NvbXBsZXRpb25zXG5WZXJzaW9uOiAxXG"
          "5DaGFpbiBJRDogc29sYW5hOjVleWt0NFVzRnY4UDhOSmRUUkVwWTF2enFLcVpLdmRwXG5FeHBpcmF0aW9uIFRp"
          "bWU6IDIwMjYtMDItMTFUMDU6MDA6MDAuMDAwWiIsInNpZ25hdHVyZSI6IjRTZk5vc3lITEY4dWpqTTllRVo3dV"
          "hYUW40cjVZWjRCSzYxZG5KUTJjWjM2NHlQVDFNNnNONUZSVzcxVmZ0WG5rVjdtN25mQXc4SERkWVo2eFQ3Slg2"
          "OUEifQ==");
}

TEST_CASE("optional nonce and issued-at lines sit between chain id and expiry", "[siwx]") {
    auto m = vector_message();
    m.nonce = "a1b2c3d4e5f67890";
    m.issued_at = "2026-02-11T05:00:00.000Z";
    m.expiration_time = "2026-02-11T05:05:00.000Z";
    auto text = crypto::format_siwx_message(m);
    CHECK(text.find("Chain ID: solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp\nNonce: a1b2c3d4e5f67890\n"
                    "Issued At: 2026-02-11T05:00:00.000Z\nExpiration Time: "
                    "2026-02-11T05:05:00.000Z") != std::string::npos);
    CHECK(
        signature_of(crypto::siwx_header_value(test::rfc8032_keypair(), m)) ==
        "3kncySK6e4a9YigQ93uejE3ft3wr9tMr6eUVZWnxP6hiSiNbg9uAk4MjxicbUmiXtWuruqW64fJYSPuXgkHu1DNW");
}

TEST_CASE("the signer expires five minutes after the context clock", "[siwx]") {
    auto now = parse_utc(2026, 2, 11, 4, 55);
    crypto::SiwxSigner signer(test::rfc8032_keypair(), std::string(crypto::mainnet_chain_id),
                              [now] { return now; });
    auto header =
        signer.sign("beta.aimo.network", "https://beta.aimo.network/api/v1/chat/completions");
    CHECK(
        signature_of(header) ==
        "4SfNosyHLF8ujjM9eEZ7uXXQn4r5YZ4BK61dnJQ2cZ364yPT1M6sN5FRW71VftXnkV7m7nfAw8HDdYZ6xT7JX69A");
}

TEST_CASE("devnet chain id is configurable", "[siwx]") {
    auto m = vector_message();
    m.chain_id = "solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1";
    CHECK(crypto::format_siwx_message(m).find(
              "Chain ID: solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1") != std::string::npos);
}

TEST_CASE("timestamps are UTC with milliseconds", "[siwx]") {
    auto t = parse_utc(2026, 2, 11, 5, 0) + std::chrono::milliseconds(7);
    CHECK(crypto::format_timestamp(t) == "2026-02-11T05:00:00.007Z");
}

TEST_CASE("header checking accepts real headers and names what is wrong", "[siwx]") {
    auto header = crypto::siwx_header_value(test::rfc8032_keypair(), vector_message());
    auto check = crypto::check_siwx_header(header);
    REQUIRE(check.valid);
    CHECK(check.message.uri == "https://beta.aimo.network/api/v1/chat/completions");
    CHECK(check.message.address == test::rfc8032_address);

    auto json = nlohmann::json::parse(crypto::base64_decode(header).value());
    json["message"] = json["message"].get<std::string>() + "0";
    auto tampered = crypto::check_siwx_header(crypto::base64_encode(json.dump()));
    CHECK_FALSE(tampered.valid);
    CHECK_FALSE(crypto::check_siwx_header("not base64!").valid);
}

TEST_CASE("a header is reused for the same URL only within the reuse window", "[siwx]") {
    auto now = parse_utc(2026, 2, 11, 4, 55);
    crypto::SiwxSigner signer(
        test::rfc8032_keypair(), std::string(crypto::mainnet_chain_id), [&now] { return now; },
        std::chrono::minutes(5), std::chrono::milliseconds(1000));
    std::string url = "https://beta.aimo.network/api/v1/chat/completions";
    auto first = signer.sign("beta.aimo.network", url);
    now += std::chrono::milliseconds(999);
    CHECK(signer.sign("beta.aimo.network", url) == first);
    auto other = signer.sign("beta.aimo.network", "https://beta.aimo.network/api/v1/models");
    CHECK(other != first);
    CHECK(crypto::check_siwx_header(other).message.uri ==
          "https://beta.aimo.network/api/v1/models");
    now += std::chrono::milliseconds(1);
    auto renewed = signer.sign("beta.aimo.network", url);
    CHECK(renewed != first);
    CHECK(crypto::check_siwx_header(renewed).message.expiration_time == "2026-02-11T05:00:01.000Z");
}

TEST_CASE("a presigned header is taken once, for its URL, within a second", "[siwx]") {
    auto now = parse_utc(2026, 2, 11, 4, 55);
    crypto::SiwxSigner signer(test::rfc8032_keypair(), std::string(crypto::mainnet_chain_id),
                              [&now] { return now; });
    std::string url = "https://beta.aimo.network/api/v1/chat/completions";
    auto expiry = [](const std::string& header) {
        return crypto::check_siwx_header(header).message.expiration_time;
    };
    signer.presign("beta.aimo.network", url);
    now += std::chrono::milliseconds(400);
    // Another URL does not take it.
    auto models = signer.sign("beta.aimo.network", "https://beta.aimo.network/api/v1/models");
    CHECK(expiry(models) == "2026-02-11T05:00:00.400Z");
    auto taken = signer.sign("beta.aimo.network", url);
    CHECK(crypto::check_siwx_header(taken).valid);
    CHECK(crypto::check_siwx_header(taken).message.uri == url);
    CHECK(expiry(taken) == "2026-02-11T05:00:00.000Z"); // signed when presigned
    // Taken once: the next request is signed when it asks.
    now += std::chrono::milliseconds(100);
    CHECK(expiry(signer.sign("beta.aimo.network", url)) == "2026-02-11T05:00:00.500Z");

    // One not taken within a second is dropped, not used.
    signer.presign("beta.aimo.network", url);
    signer.presign("beta.aimo.network", url);
    now += std::chrono::milliseconds(1000);
    CHECK(expiry(signer.sign("beta.aimo.network", url)) == "2026-02-11T05:00:01.500Z");
    now += std::chrono::milliseconds(1);
    CHECK(expiry(signer.sign("beta.aimo.network", url)) == "2026-02-11T05:00:01.501Z");
}

TEST_CASE("timestamps agree with the C library across leap years and centuries", "[siwx]") {
    std::mt19937_64 random(7);
    for (int i = 0; i < 20000; ++i) {
        // 1900 to 2250 (system_clock counts nanoseconds: it ends in 2262), to the millisecond
        int64_t millis = -2208988800000LL + static_cast<int64_t>(random() % 11045000000000ULL);
        std::chrono::system_clock::time_point t{std::chrono::milliseconds(millis)};
        std::time_t seconds =
            static_cast<std::time_t>(millis >= 0 ? millis / 1000 : (millis - 999) / 1000);
        std::tm utc{};
        gmtime_r(&seconds, &utc);
        char expected[32];
        std::strftime(expected, sizeof expected, "%Y-%m-%dT%H:%M:%S", &utc);
        CAPTURE(millis);
        REQUIRE(crypto::format_timestamp(t) ==
                fmt::format("{}.{:03}Z", expected, ((millis % 1000) + 1000) % 1000));
    }
    CHECK(crypto::format_timestamp(std::chrono::system_clock::time_point{}) ==
          "1970-01-01T00:00:00.000Z");
    CHECK(crypto::format_timestamp(parse_utc(2024, 2, 29, 23, 59) + std::chrono::seconds(59) +
                                   std::chrono::milliseconds(999)) == "2024-02-29T23:59:59.999Z");
}
