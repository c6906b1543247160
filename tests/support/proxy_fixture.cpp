#include "proxy_fixture.hpp"

namespace aimo::test {

namespace {
std::unique_ptr<governance::Database> open_database(const ProxyFixtureOptions& options) {
    if (options.database.empty()) {
        return nullptr;
    }
    return std::make_unique<governance::Database>(options.database);
}

proxy::ServerOptions server_options(const ProxyFixtureOptions& options, std::ostream* log,
                                    proxy::Metrics* metrics) {
    proxy::ServerOptions server;
    server.host = "127.0.0.1";
    server.port = 0;
    server.max_body_bytes = options.max_body_bytes;
    server.max_connections = options.max_connections;
    server.header_timeout = options.header_timeout;
    server.body_timeout = options.body_timeout;
    server.idle_timeout = options.idle_timeout;
    server.drain_timeout = options.drain_timeout;
    server.log_format = options.log_format;
    server.log = log;
    server.metrics = metrics;
    return server;
}
} // namespace

ProxyFixture::ProxyFixture(const std::string& router_url, ProxyFixtureOptions options)
    : pool(options.timeouts, options.ca_file),
      m_options(std::move(options)), m_defaults{upstream::parse_url(router_url, "router URL"),
                                                m_options.timeouts},
      m_signer(std::make_shared<const crypto::SiwxSigner>(
          rfc8032_keypair(), std::string(crypto::mainnet_chain_id),
          [] { return std::chrono::system_clock::now(); })),
      m_config(m_options.config), m_db(open_database(m_options)),
      m_governor(m_db ? std::make_unique<governance::Governor>(*m_db, m_options.require_auth,
                                                               std::chrono::milliseconds(0))
                      : nullptr),
      m_ledger(m_db ? std::make_unique<governance::Ledger>(*m_db) : nullptr),
      m_gateway([this] { return build(); }),
      m_handler(
          m_gateway, m_options.stream_keepalive,
          proxy::Governance{
              m_governor.get(), m_ledger.get(), {}, &m_metrics, m_options.metrics_need_token}),
      m_server(m_handler, server_options(m_options, &m_log, &m_metrics)) {
    m_port = m_server.bind();
    m_thread = std::thread([this] { m_server.run(); });
}

ProxyFixture::~ProxyFixture() {
    stop_and_log();
}

std::shared_ptr<const routing::Table> ProxyFixture::build() {
    std::string text;
    {
        std::lock_guard lock(m_config_mutex);
        text = m_config;
    }
    auto env = [this](std::string_view name) -> std::optional<std::string> {
        auto it = m_options.env.find(std::string(name));
        return it == m_options.env.end() ? std::nullopt : std::optional(it->second);
    };
    return std::make_shared<const routing::Table>(
        routing::parse_routing_config(text, "config.toml", m_defaults, env), m_signer, pool,
        m_options.models_ttl);
}

std::string ProxyFixture::reload(const std::string& config) {
    {
        std::lock_guard lock(m_config_mutex);
        m_config = config;
    }
    return m_gateway.reload();
}

void ProxyFixture::flush_ledger() {
    if (m_ledger) {
        m_ledger->flush();
    }
}

std::string ProxyFixture::stop_and_log() {
    if (m_thread.joinable()) {
        m_server.stop();
        m_thread.join();
    }
    return m_log.str();
}

} // namespace aimo::test
