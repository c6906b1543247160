#include "crypto/encoding.hpp"

#include <array>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <sodium.h>

namespace aimo::crypto {

namespace {
constexpr std::string_view base58_alphabet =
    "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_reverse(std::string_view alphabet) {
    std::array<int8_t, 256> table{};
    for (auto& entry : table) {
        entry = -1;
    }
    for (size_t i = 0; i < alphabet.size(); ++i) {
        table[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
    }
    return table;
}
constexpr auto base58_reverse = make_reverse(base58_alphabet);
constexpr auto base64_reverse = make_reverse(base64_alphabet);
} // namespace

std::string base58_encode(const uint8_t* data, size_t size) {
    size_t zeros = 0;
    while (zeros < size && data[zeros] == 0) {
        ++zeros;
    }
    // log(256)/log(58) ~ 1.37, so this many base-58 digits always suffice.
    std::vector<uint8_t> digits((size - zeros) * 138 / 100 + 1);
    size_t length = 0;
    for (size_t i = zeros; i < size; ++i) {
        int carry = data[i];
        size_t j = 0;
        for (auto it = digits.rbegin(); (carry != 0 || j < length) && it != digits.rend();
             ++it, ++j) {
            carry += 256 * (*it);
            *it = static_cast<uint8_t>(carry % 58);
            carry /= 58;
        }
        length = j;
    }
    std::string out(zeros, '1');
    for (auto it = digits.end() - static_cast<std::ptrdiff_t>(length); it != digits.end(); ++it) {
        out += base58_alphabet[*it];
    }
    return out;
}

std::optional<std::vector<uint8_t>> base58_decode(std::string_view text) {
    size_t ones = 0;
    while (ones < text.size() && text[ones] == '1') {
        ++ones;
    }
    std::vector<uint8_t> bytes((text.size() - ones) * 733 / 1000 + 1);
    size_t length = 0;
    for (size_t i = ones; i < text.size(); ++i) {
        int carry = base58_reverse[static_cast<uint8_t>(text[i])];
        if (carry < 0) {
            return std::nullopt;
        }
        size_t j = 0;
        for (auto it = bytes.rbegin(); (carry != 0 || j < length) && it != bytes.rend();
             ++it, ++j) {
            carry += 58 * (*it);
            *it = static_cast<uint8_t>(carry % 256);
            carry /= 256;
        }
        length = j;
    }
    std::vector<uint8_t> out(ones, 0);
    out.insert(out.end(), bytes.end() - static_cast<std::ptrdiff_t>(length), bytes.end());
    return out;
}

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        uint32_t n = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) |
                     uint8_t(bytes[i + 2]);
        out += base64_alphabet[(n >> 18) & 63];
        out += base64_alphabet[(n >> 12) & 63];
        out += base64_alphabet[(n >> 6) & 63];
        out += base64_alphabet[n & 63];
    }
    if (size_t rest = bytes.size() - i; rest > 0) {
        uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
        if (rest == 2) {
            n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
        }
        out += base64_alphabet[(n >> 18) & 63];
        out += base64_alphabet[(n >> 12) & 63];
        out += rest == 2 ? base64_alphabet[(n >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (size_t i = 0; i < text.size(); i += 4) {
        uint32_t n = 0;
        int pad = 0;
        for (size_t k = 0; k < 4; ++k) {
            char c = text[i + k];
            int value = base64_reverse[static_cast<uint8_t>(c)];
            if (c == '=' && i + 4 == text.size() && k >= 2) {
                ++pad;
                value = 0;
            } else if (value < 0 || pad > 0) {
                return std::nullopt;
            }
            n = (n << 6) | static_cast<uint32_t>(value);
        }
        out += static_cast<char>((n >> 16) & 0xff);
        if (pad < 2) {
            out += static_cast<char>((n >> 8) & 0xff);
        }
        if (pad < 1) {
            out += static_cast<char>(n & 0xff);
        }
    }
    return out;
}

std::string hex_encode(const uint8_t* data, size_t size) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (size_t i = 0; i < size; ++i) {
        out += digits[data[i] >> 4];
        out += digits[data[i] & 15];
    }
    return out;
}

std::optional<std::vector<uint8_t>> hex_decode(std::string_view text) {
    if (text.size() % 2 != 0) {
        return std::nullopt;
    }
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    };
    std::vector<uint8_t> out;
    for (size_t i = 0; i < text.size(); i += 2) {
        int hi = nibble(text[i]);
        int lo = nibble(text[i + 1]);
        if (hi < 0 || lo < 0) {
            return std::nullopt;
        }
        out.push_back(static_cast<uint8_t>(hi * 16 + lo));
    }
    return out;
}

std::string sha256_hex(std::string_view bytes) {
    // OpenSSL's SHA-256 uses the CPU's SHA extensions where present (several times faster than
    // libsodium's portable code); every ledger record is hashed.
    unsigned char digest[SHA256_DIGEST_LENGTH];
    unsigned int size = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
        crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()),
                           bytes.size());
    }
    return hex_encode(digest, sizeof digest);
}

} // namespace aimo::crypto
