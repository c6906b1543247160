#pragma once

#include "crypto/encoding.hpp"
#include "crypto/keypair.hpp"

#include <array>
#include <filesystem>
#include <fstream>
#include <string>

namespace aimo::test {

/// RFC 8032 section 7.1 TEST 1: the seed every signing vector in the issues uses.
inline constexpr const char* rfc8032_seed_hex =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
inline constexpr const char* rfc8032_public_hex =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
inline constexpr const char* rfc8032_address = "FVen3X669xLzsi6N2V91DoiyzHzg1uAgqiT8jZ9nS96Z";

inline crypto::Keypair rfc8032_keypair() {
    auto bytes = crypto::hex_decode(rfc8032_seed_hex).value();
    std::array<uint8_t, 32> seed{};
    std::copy(bytes.begin(), bytes.end(), seed.begin());
    return crypto::Keypair::from_seed(seed);
}

/// Writes the RFC 8032 keypair to `path` with mode 0600, creating its directory.
inline void write_rfc8032_keypair(const std::filesystem::path& path) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << rfc8032_keypair().to_file_json();
    std::filesystem::permissions(path, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
}

} // namespace aimo::test
