#include "crypto/keypair.hpp"

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "crypto/encoding.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sodium.h>
#include <stdexcept>

namespace aimo::crypto {

using core::Error;
using core::ErrorKind;

namespace {
void ensure_sodium() {
    static const bool ready = [] {
        if (sodium_init() < 0) {
            throw std::runtime_error("libsodium failed to initialise");
        }
        return true;
    }();
    (void)ready;
}
} // namespace

Keypair Keypair::generate() {
    ensure_sodium();
    std::array<uint8_t, 32> seed{};
    randombytes_buf(seed.data(), seed.size());
    Keypair keypair = from_seed(seed);
    sodium_memzero(seed.data(), seed.size());
    return keypair;
}

Keypair Keypair::from_seed(const std::array<uint8_t, 32>& seed) {
    ensure_sodium();
    Keypair keypair;
    crypto_sign_seed_keypair(keypair.m_public.data(), keypair.m_secret.data(), seed.data());
    keypair.m_address = base58_encode(keypair.m_public.data(), keypair.m_public.size());
    return keypair;
}

Keypair::~Keypair() {
    sodium_memzero(m_secret.data(), m_secret.size());
}

Signature Keypair::sign(std::string_view message) const {
    Signature signature{};
    crypto_sign_detached(signature.data(), nullptr,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                         m_secret.data());
    return signature;
}

std::string Keypair::to_file_json() const {
    std::string out = "[";
    for (size_t i = 0; i < m_secret.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += std::to_string(m_secret[i]);
    }
    return out + "]";
}

bool verify_signature(const PublicKey& key, std::string_view message, const Signature& signature) {
    ensure_sodium();
    return crypto_sign_verify_detached(signature.data(),
                                       reinterpret_cast<const unsigned char*>(message.data()),
                                       message.size(), key.data()) == 0;
}

Keypair parse_keypair(std::string_view text, const std::string& source) {
    const std::string expected =
        "a keypair file is a JSON array of 64 numbers from 0 to 255, as written by "
        "'aimo keygen' or 'solana-keygen'";
    nlohmann::json json;
    try {
        json = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("keypair file {} is not valid JSON (at byte {})", source, e.byte),
                    expected);
    }
    if (!json.is_array()) {
        throw Error(
            ErrorKind::invalid_input,
            fmt::format("keypair file {} holds a JSON {}, not an array", source, json.type_name()),
            expected);
    }
    if (json.size() != 64) {
        throw Error(
            ErrorKind::invalid_input,
            fmt::format("keypair file {} holds {} numbers; expected 64", source, json.size()),
            expected);
    }
    std::array<uint8_t, 64> bytes{};
    for (size_t i = 0; i < 64; ++i) {
        const auto& value = json[i];
        if (!value.is_number_integer()) {
            throw Error(ErrorKind::invalid_input,
                        fmt::format("keypair file {}: element {} is {}, not an integer", source, i,
                                    core::json_text(value)),
                        expected);
        }
        auto number = value.get<long long>();
        if (number < 0 || number > 255) {
            throw Error(
                ErrorKind::invalid_input,
                fmt::format("keypair file {}: element {} is {}, outside 0-255", source, i, number),
                expected);
        }
        bytes[i] = static_cast<uint8_t>(number);
    }
    std::array<uint8_t, 32> seed{};
    std::copy(bytes.begin(), bytes.begin() + 32, seed.begin());
    Keypair keypair = Keypair::from_seed(seed);
    sodium_memzero(seed.data(), seed.size());
    bool matches = std::equal(bytes.begin() + 32, bytes.end(), keypair.public_key().begin());
    sodium_memzero(bytes.data(), bytes.size());
    if (!matches) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("keypair file {}: bytes 32-63 are not the public key of the seed "
                                "in bytes 0-31",
                                source),
                    "the file is damaged; restore it from a backup or create a new one with "
                    "'aimo keygen --force' (the old address is then lost)");
    }
    return keypair;
}

LoadedKeypair load_keypair(const std::filesystem::path& path) {
    std::string text;
    try {
        text = core::read_file(path);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::not_found) {
            throw Error(ErrorKind::not_found, fmt::format("no keypair at {}", path.string()),
                        "create one with 'aimo keygen', or point --keypair / AIMO_KEYPAIR at "
                        "an existing file");
        }
        throw;
    }
    LoadedKeypair loaded{parse_keypair(text, path.string()), {}};
    sodium_memzero(text.data(), text.size());
    if (auto mode = core::file_mode(path); (mode & 077) != 0) {
        loaded.warnings.push_back(
            fmt::format("keypair file {} is readable by group or others (mode {:04o}); "
                        "run: chmod 600 {}",
                        path.string(), mode, path.string()));
    }
    return loaded;
}

void save_keypair(const std::filesystem::path& path, const Keypair& keypair, bool force) {
    std::error_code ec;
    if (!force && std::filesystem::exists(path, ec)) {
        throw Error(
            ErrorKind::already_exists,
            fmt::format("a keypair already exists at {}; not overwriting it", path.string()),
            "its address is your identity: back it up, then use --force to replace it, "
            "or choose another path with --keypair");
    }
    std::string json = keypair.to_file_json();
    core::write_file_atomic(path, json, 0600);
    sodium_memzero(json.data(), json.size());
}

} // namespace aimo::crypto
