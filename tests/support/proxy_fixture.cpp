#include "proxy_fixture.hpp"

#include "upstream/chat.hpp"

namespace aimo::test {

ProxyFixture::ProxyFixture(const std::string& router_url, ProxyFixtureOptions options)
    : pool(options.timeouts, options.ca_file),
      m_options(std::move(options)), m_defaults{upstream::parse_url(router_url, "router URL"),
                                                m_options.timeouts},
      m_signer(std::make_shared<const crypto::SiwxSigner>(
          rfc8032_keypair(), std::string(crypto::mainnet_chain_id),
          [] { return std::chrono::system_clock::now(); })),
      m_config(m_options.config), m_proxy(parts()) {
    if (m_options.dashboard_balance) {
        upstream::AimoRouter router(m_defaults.router_url, m_signer, pool);
        m_proxy.set_wallet(m_signer->address(), [router] {
            auto answer = upstream::fetch_balance(router);
            return upstream::balance_amount(answer).value_or("?");
        });
    }
    m_port = m_proxy.bind();
    m_thread = std::thread([this] { m_proxy.run(); });
}

proxy::ProxyParts ProxyFixture::parts() {
    proxy::ProxyParts parts;
    parts.tables = [this] { return build(); };
    parts.database = m_options.database;
    parts.require_auth = m_options.require_auth;
    parts.metrics_need_token = m_options.metrics_need_token;
    parts.agents_recheck = std::chrono::milliseconds(0);
    parts.stream_keepalive = m_options.stream_keepalive;
    parts.cache = m_options.cache;
    parts.clock = m_options.clock;
    parts.rate_window = m_options.rate_window;
    parts.owner_secret_hash = m_options.owner_secret_hash;
    parts.on_warning = [this](const std::string& warning) {
        std::lock_guard lock(m_warnings_mutex);
        m_warnings += warning + "\n";
    };
    auto& server = parts.server;
    server.host = "127.0.0.1";
    server.port = 0;
    server.max_body_bytes = m_options.max_body_bytes;
    server.max_connections = m_options.max_connections;
    server.header_timeout = m_options.header_timeout;
    server.body_timeout = m_options.body_timeout;
    server.idle_timeout = m_options.idle_timeout;
    server.drain_timeout = m_options.drain_timeout;
    server.log_format = m_options.log_format;
    server.log = &m_log;
    return parts;
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
    return m_proxy.reload();
}

std::string ProxyFixture::warnings() {
    std::lock_guard lock(m_warnings_mutex);
    return m_warnings;
}

void ProxyFixture::flush_ledger() {
    m_proxy.flush_ledger();
}

std::string ProxyFixture::stop_and_log() {
    if (m_thread.joinable()) {
        m_proxy.stop();
        m_thread.join();
    }
    return m_log.str();
}

} // namespace aimo::test
