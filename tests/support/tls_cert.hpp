#pragma once

#include <filesystem>

namespace aimo::test {

/// A fresh self-signed certificate (its own CA) for `localhost` and 127.0.0.1, written as PEM
/// into `dir` (cert.pem, key.pem), so tests can serve HTTPS on loopback and trust exactly it.
struct TlsFiles {
    std::filesystem::path cert;
    std::filesystem::path key;
};

TlsFiles make_self_signed(const std::filesystem::path& dir);

} // namespace aimo::test
