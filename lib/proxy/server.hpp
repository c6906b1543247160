#pragma once

#include "core/context.hpp"
#include "proxy/access_log.hpp"
#include "proxy/handler.hpp"
#include "proxy/metrics.hpp"

#include <chrono>
#include <memory>
#include <ostream>
#include <string>

namespace aimo::proxy {

/// How the HTTP server listens and behaves.
struct ServerOptions {
    std::string host = "127.0.0.1";
    int port = 8080; ///< 0 picks a free port
    size_t max_body_bytes = 32 * 1024 * 1024;
    std::chrono::seconds drain_timeout{10};
    LogFormat log_format = LogFormat::text;
    std::ostream* log = nullptr; ///< access log sink; nullptr disables it
    core::Clock clock;           ///< timestamps in the access log
    Metrics* metrics = nullptr;  ///< counts every exchange when set
};

/// The HTTP front door: a thread per active connection (so long streams never starve short
/// requests), keep-alive, OpenAI-shaped errors even for malformed HTTP, an access log line and
/// an x-request-id on every response. The only place that includes httplib's server side.
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
    /// Returns true when every in-flight request finished within the drain timeout.
    bool run();
    /// Stops accepting connections; safe from any thread, idempotent.
    void stop();
    /// Requests being handled right now.
    size_t in_flight() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace aimo::proxy
