#pragma once

#include "core/context.hpp"
#include "metrics/metrics.hpp"
#include "proxy/access_log.hpp"
#include "proxy/handler.hpp"

#include <chrono>
#include <memory>
#include <ostream>
#include <string>

namespace aimo::proxy {

/// How the HTTP server listens and behaves, and the limits it holds every client to.
struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080; ///< 0 picks a free port
    size_t max_body_bytes = 32 * 1024 * 1024;
    std::chrono::seconds drain_timeout{10};
    /// Open client connections at most; past it a connection gets a 503 (or, for /health, its
    /// answer) and is closed.
    size_t max_connections = 1024;
    /// The whole request head must arrive within this, from its first byte (or from the
    /// connection's start): a client sending it byte by byte is cut off with 408.
    std::chrono::milliseconds header_timeout{10'000};
    /// The whole body must arrive within this once the head is in.
    std::chrono::milliseconds body_timeout{60'000};
    /// A kept-alive connection with no request for this long is closed.
    std::chrono::milliseconds idle_timeout{5'000};
    /// A client that reads nothing of its response for this long is cut off.
    std::chrono::milliseconds write_timeout{30'000};
    LogFormat log_format = LogFormat::text;
    std::ostream* log = nullptr;         ///< access log sink; nullptr disables it
    core::Clock clock;                   ///< timestamps in the access log
    metrics::Metrics* metrics = nullptr; ///< counts every exchange when set
};

/// The HTTP/1.1 front door: one poller thread holds every connection that waits for a request
/// (idle keep-alives and heads still arriving cost no thread), and a thread per request being
/// answered (so long streams never starve short requests). Pipelined requests are answered in
/// order; every limit in ServerOptions holds however a client sends its bytes; errors are
/// OpenAI-shaped even for malformed HTTP; every response has an x-request-id and an access log
/// line. The only code that reads from or writes to client sockets.
class Server {
public:
    Server(Handler& handler, ServerOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds the listening socket and returns the port. Clients may connect from then on.
    /// Throws core::Error when the address cannot be bound (e.g. port in use).
    int bind();
    /// Serves until stop(), then waits up to the drain timeout for in-flight requests.
    /// Returns true when every in-flight request finished within the drain timeout; otherwise
    /// cuts them off (each client hears why) and waits up to 2 s more for them to end (see
    /// in_flight() for those that did not).
    bool run();
    /// Stops accepting connections; safe from any thread, idempotent.
    void stop();
    /// Requests being handled right now.
    size_t in_flight() const;
    /// Worker threads serving a connection right now (an idle keep-alive holds none; a worker
    /// that has just answered counts until it is back in the pool).
    size_t busy_workers() const;
    /// Worker threads that exist, idle ones included; none are left shortly after stop().
    size_t worker_threads() const;

private:
    struct Impl;
    std::shared_ptr<Impl> m_impl; // shared with worker threads, which may outlive the Server
};

} // namespace aimo::proxy
