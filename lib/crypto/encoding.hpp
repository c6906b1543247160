#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aimo::crypto {

/// Base58 with the Bitcoin alphabet (what Solana uses for addresses and signatures); each
/// leading zero byte becomes a leading '1'.
std::string base58_encode(const uint8_t* data, size_t size);
inline std::string base58_encode(std::string_view bytes) {
    return base58_encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}
/// Decodes base58; nullopt when a character is outside the alphabet.
std::optional<std::vector<uint8_t>> base58_decode(std::string_view text);

/// Standard base64 (RFC 4648 alphabet, '=' padding).
std::string base64_encode(std::string_view bytes);
/// Decodes standard base64 with padding; nullopt when the text is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

/// Lower-case hex of bytes, and its inverse (nullopt on odd length or a non-hex digit).
std::string hex_encode(const uint8_t* data, size_t size);
std::optional<std::vector<uint8_t>> hex_decode(std::string_view text);

/// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(std::string_view bytes);

} // namespace aimo::crypto
