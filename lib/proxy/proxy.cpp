#include "proxy/proxy.hpp"

namespace aimo::proxy {

namespace {
std::unique_ptr<governance::Database> open(const std::filesystem::path& path) {
    return path.empty() ? nullptr : std::make_unique<governance::Database>(path);
}

ServerOptions with_observers(ServerOptions options, metrics::Metrics* metrics,
                             const core::Clock& clock) {
    options.metrics = metrics;
    if (!options.clock) {
        options.clock = clock;
    }
    return options;
}
} // namespace

Proxy::Proxy(ProxyParts parts)
    : m_database(open(parts.database)),
      m_governor(m_database ? std::make_unique<governance::Governor>(
                                  *m_database, parts.require_auth, parts.agents_recheck)
                            : nullptr),
      m_ledger(m_database ? std::make_unique<governance::Ledger>(*m_database,
                                                                 std::move(parts.on_ledger_error))
                          : nullptr),
      m_gateway(std::move(parts.tables)),
      m_gate(m_governor.get(), m_ledger.get(), &m_metrics, parts.clock),
      m_forwarder(m_gateway, m_gate, &m_metrics, parts.stream_keepalive),
      m_handler(m_gateway, m_gate, m_forwarder, &m_metrics, parts.metrics_need_token),
      m_server(m_handler, with_observers(std::move(parts.server), &m_metrics, parts.clock)) {}

void Proxy::flush_ledger() {
    if (m_ledger) {
        m_ledger->flush();
    }
}

} // namespace aimo::proxy
