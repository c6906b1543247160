#pragma once

#include "proxy/handler.hpp"
#include "proxy/server.hpp"
#include "upstream/aimo_router.hpp"
#include "vectors.hpp"

#include <sstream>
#include <thread>

namespace aimo::test {

/// Options for a proxy under test.
struct ProxyFixtureOptions {
    upstream::Timeouts timeouts{std::chrono::milliseconds(2000), std::chrono::milliseconds(5000)};
    std::chrono::seconds models_ttl{60};
    size_t max_body_bytes = 32 * 1024 * 1024;
    proxy::LogFormat log_format = proxy::LogFormat::text;
    std::string ca_file; ///< trust only this CA for https routers
};

/// The real proxy (pool, signer, handler, server) in-process on a free loopback port, signing
/// with the RFC 8032 key and forwarding to `router_url`. Ready when constructed; stopped and
/// joined on destruction.
class ProxyFixture {
public:
    explicit ProxyFixture(const std::string& router_url, ProxyFixtureOptions options = {});
    ~ProxyFixture();

    int port() const { return m_port; }
    /// Stops the server and returns the access log written so far.
    std::string stop_and_log();

    upstream::ClientPool pool;
    upstream::AimoRouter router;

private:
    std::ostringstream m_log;
    proxy::Handler m_handler;
    proxy::Server m_server;
    std::thread m_thread;
    int m_port = -1;
};

} // namespace aimo::test
