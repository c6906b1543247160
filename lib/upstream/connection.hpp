#pragma once

#include "upstream/url.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace aimo::upstream {

/// A byte stream to one upstream with a read buffer: what the HTTP client speaks over. Every
/// failure throws core::Error naming the upstream. The real one is a SocketConnection; tests
/// give a ClientPool a Connector of their own to script upstreams without sockets.
class Connection {
public:
    explicit Connection(std::string origin) : m_origin(std::move(origin)) {}
    virtual ~Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Writes everything or throws.
    virtual void write_all(std::string_view data) = 0;
    /// Appends at least one byte to buffer(): true, or false at end of stream; nullopt when
    /// `timeout` passes without a byte. Throws on error.
    virtual std::optional<bool> read_some(std::chrono::milliseconds timeout) = 0;
    /// False when the peer has closed the connection or sent unexpected bytes while idle.
    virtual bool idle_and_open() = 0;

    /// As read_some, but a timeout throws core::Error(upstream_timeout).
    bool read_more(std::chrono::milliseconds timeout);
    /// Unconsumed bytes read from the peer.
    std::string& buffer() { return m_buffer; }
    /// scheme://host:port, used as the pool key.
    const std::string& origin() const { return m_origin; }
    /// When the connection went back to the pool.
    std::chrono::steady_clock::time_point idle_since;

protected:
    std::string m_buffer;

private:
    std::string m_origin;
};

/// One TCP connection, optionally wrapped in TLS. Blocking I/O bounded by timeouts.
class SocketConnection final : public Connection {
public:
    /// Connects to `url`'s host and port (every resolved address in turn) within
    /// `connect_timeout`; performs the TLS handshake with hostname verification for https.
    /// `tls_context` is an SSL_CTX* (required for https).
    SocketConnection(const Url& url, std::chrono::milliseconds connect_timeout, void* tls_context);
    ~SocketConnection() override;

    void write_all(std::string_view data) override;
    std::optional<bool> read_some(std::chrono::milliseconds timeout) override;
    bool idle_and_open() override;

private:
    int m_fd = -1;
    void* m_ssl = nullptr;                          // SSL*
    std::chrono::milliseconds m_receive_timeout{0}; // SO_RCVTIMEO currently set
};

} // namespace aimo::upstream
