#pragma once

#include "core/context.hpp"
#include "crypto/keypair.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace aimo::crypto {

/// Solana mainnet, the chain id the AiMo router expects by default.
inline constexpr std::string_view mainnet_chain_id = "solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp";

/// The fields of a SIWx (CAIP-122) sign-in message as the AiMo router reads it.
struct SiwxMessage {
    std::string domain;  ///< host[:port] of the upstream URL
    std::string address; ///< base58 public key
    std::string uri;     ///< the full upstream request URL
    std::string chain_id;
    std::string nonce;     ///< optional; empty means absent
    std::string issued_at; ///< optional; empty means absent
    std::string expiration_time;
};

/// The message text: lines joined by LF, no trailing LF, optional lines only when set.
std::string format_siwx_message(const SiwxMessage& message);

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` in UTC.
std::string format_timestamp(std::chrono::system_clock::time_point time);

/// The SIGN-IN-WITH-X header value: base64 of `{"message":…,"signature":<base58>}`.
std::string siwx_header_value(const Keypair& keypair, const SiwxMessage& message);

/// Signs upstream requests with one keypair. Thread-safe.
///
/// An ed25519 signature costs tens of microseconds, so a header signed for a URL may be reused
/// for that same URL during `reuse` (default 0: sign every request). A reused header is at most
/// `reuse` old, so it keeps nearly all of its `validity`; it proves nothing more or less than a
/// new one would.
class SiwxSigner {
public:
    SiwxSigner(Keypair keypair, std::string chain_id, core::Clock clock,
               std::chrono::seconds validity = std::chrono::minutes(5),
               std::chrono::milliseconds reuse = std::chrono::milliseconds(0))
        : m_keypair(std::move(keypair)), m_chain_id(std::move(chain_id)), m_clock(std::move(clock)),
          m_validity(validity), m_reuse(reuse) {}
    SiwxSigner(SiwxSigner&& other) noexcept
        : m_keypair(other.m_keypair), m_chain_id(std::move(other.m_chain_id)),
          m_clock(std::move(other.m_clock)), m_validity(other.m_validity), m_reuse(other.m_reuse) {}

    /// Header value for a request to `url` whose authority (host[:port]) is `authority`,
    /// expiring `validity` after the moment it was signed.
    std::string sign(std::string_view authority, std::string_view url) const;
    /// Signs a header for `url` now, for the next sign() of that URL to take instead of
    /// signing then: a caller that waits anyway (for an admission, say) spends the wait on it.
    /// Each such header is taken once, and only within a second; with `reuse` on, nothing is
    /// done.
    void presign(std::string_view authority, std::string_view url) const;
    const std::string& address() const { return m_keypair.address(); }

private:
    /// A header for `url` expiring `m_validity` after `now`.
    std::string header_at(std::string_view authority, std::string_view url,
                          std::chrono::system_clock::time_point now) const;
    struct Recent {
        std::string header;
        std::chrono::system_clock::time_point signed_at;
    };
    Keypair m_keypair;
    std::string m_chain_id;
    core::Clock m_clock;
    std::chrono::seconds m_validity;
    std::chrono::milliseconds m_reuse;
    mutable std::mutex m_mutex;
    mutable std::unordered_map<std::string, Recent> m_recent;            // by authority and URL
    mutable std::unordered_map<std::string, std::deque<Recent>> m_ready; // presigned, likewise
    mutable std::atomic<size_t> m_ready_count{0};
};

/// What a SIWx header says, once checked (used by doctor, tests and the bench's fake router).
struct SiwxCheck {
    bool valid = false;
    std::string problem; ///< why it is not valid
    SiwxMessage message;
};

/// Decodes a header value, parses its message and verifies the signature against the address
/// in the message. Does not judge expiry or URI: the caller compares those.
SiwxCheck check_siwx_header(std::string_view header_value);

} // namespace aimo::crypto
