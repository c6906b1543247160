#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace aimo::crypto {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

/// An ed25519 keypair. The secret never leaves this object except through to_file_json(), and
/// is wiped from memory when the object is destroyed.
class Keypair {
public:
    /// A fresh keypair from the operating system's CSPRNG.
    static Keypair generate();
    /// The keypair whose 32-byte secret seed is `seed`.
    static Keypair from_seed(const std::array<uint8_t, 32>& seed);

    Keypair(const Keypair& other) = default;
    Keypair& operator=(const Keypair& other) = default;
    ~Keypair();

    const PublicKey& public_key() const { return m_public; }
    /// Base58 of the public key: the Solana address.
    const std::string& address() const { return m_address; }
    /// Detached ed25519 signature of `message`.
    Signature sign(std::string_view message) const;
    /// Solana CLI file format: compact JSON array of 64 integers, seed then public key.
    std::string to_file_json() const;

private:
    Keypair() = default;
    std::array<uint8_t, 64> m_secret{}; // seed || public key, as libsodium and Solana keep it
    PublicKey m_public{};
    std::string m_address;
};

/// True when `signature` is a valid ed25519 signature of `message` by `key`.
bool verify_signature(const PublicKey& key, std::string_view message, const Signature& signature);

/// Parses keypair file text; `source` names it in errors. Throws Error(invalid_input) saying
/// exactly what is wrong: not JSON, not an array, wrong length, a value that is not an integer
/// in 0-255, or a public half that does not belong to the seed.
Keypair parse_keypair(std::string_view text, const std::string& source);

/// A loaded keypair plus warnings worth showing (e.g. a file readable by others).
struct LoadedKeypair {
    Keypair keypair;
    std::vector<std::string> warnings;
};

/// Reads and validates a keypair file. A missing file throws Error(not_found) with the
/// `aimo keygen` hint.
LoadedKeypair load_keypair(const std::filesystem::path& path);

/// Writes `keypair` to `path` atomically with mode 0600, creating the directory with 0700.
/// Throws Error(already_exists) when the file exists and `force` is false.
void save_keypair(const std::filesystem::path& path, const Keypair& keypair, bool force);

} // namespace aimo::crypto
