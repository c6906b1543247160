#include "proxy_fixture.hpp"

namespace aimo::test {

namespace {
proxy::ServerOptions server_options(const ProxyFixtureOptions& options, std::ostream* log) {
    proxy::ServerOptions server;
    server.host = "127.0.0.1";
    server.port = 0;
    server.max_body_bytes = options.max_body_bytes;
    server.drain_timeout = std::chrono::seconds(5);
    server.log_format = options.log_format;
    server.log = log;
    return server;
}
} // namespace

ProxyFixture::ProxyFixture(const std::string& router_url, ProxyFixtureOptions options)
    : pool(options.timeouts, options.ca_file),
      router(upstream::parse_url(router_url, "router URL"),
             crypto::SiwxSigner(rfc8032_keypair(), std::string(crypto::mainnet_chain_id),
                                [] { return std::chrono::system_clock::now(); }),
             pool),
      m_handler(router, options.models_ttl), m_server(m_handler, server_options(options, &m_log)) {
    m_port = m_server.bind();
    m_thread = std::thread([this] { m_server.run(); });
}

ProxyFixture::~ProxyFixture() {
    stop_and_log();
}

std::string ProxyFixture::stop_and_log() {
    if (m_thread.joinable()) {
        m_server.stop();
        m_thread.join();
    }
    return m_log.str();
}

} // namespace aimo::test
