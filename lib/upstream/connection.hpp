#pragma once

#include "upstream/url.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace aimo::upstream {

/// One TCP connection, optionally wrapped in TLS, with a read buffer. Blocking I/O bounded by
/// timeouts; every failure throws core::Error naming the upstream.
class Connection {
public:
    /// Connects to `url`'s host and port (every resolved address in turn) within
    /// `connect_timeout`; performs the TLS handshake with hostname verification for https.
    /// `tls_context` is an SSL_CTX* (required for https).
    Connection(const Url& url, std::chrono::milliseconds connect_timeout, void* tls_context);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Writes everything or throws.
    void write_all(std::string_view data);
    /// Appends at least one byte to buffer(); false at end of stream. Throws on timeout/error.
    bool read_more(std::chrono::milliseconds timeout);
    /// As read_more, but nullopt when `timeout` passes without a byte.
    std::optional<bool> read_some(std::chrono::milliseconds timeout);
    /// False when the peer has closed the connection or sent unexpected bytes while idle.
    bool idle_and_open();

    /// Unconsumed bytes read from the peer.
    std::string& buffer() { return m_buffer; }
    /// scheme://host:port, used as the pool key.
    const std::string& origin() const { return m_origin; }
    /// When the connection went back to the pool.
    std::chrono::steady_clock::time_point idle_since;

private:
    int m_fd = -1;
    void* m_ssl = nullptr; // SSL*
    std::string m_origin;
    std::string m_buffer;
    std::chrono::milliseconds m_receive_timeout{0}; // SO_RCVTIMEO currently set
};

} // namespace aimo::upstream
