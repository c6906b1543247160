#include "proxy/proxy.hpp"

#include "core/error.hpp"
#include "state/shared_agents.hpp"
#include "state/shared_capacity.hpp"
#include "state/shared_governor.hpp"

namespace aimo::proxy {

namespace {
std::unique_ptr<governance::Database> open(const std::filesystem::path& path) {
    return path.empty() ? nullptr : std::make_unique<governance::Database>(path);
}

// Where the dashboard finds the agents: the state server when shared, else the database.
ui::Dashboard::Agents dashboard_agents(state::StateClient* shared, bool database) {
    if (shared != nullptr) {
        return [shared](governance::Database*) { return state::SharedAgents(*shared).list(); };
    }
    if (!database) {
        return nullptr;
    }
    return [](governance::Database* db) {
        return db != nullptr ? governance::AgentStore(*db).list()
                             : std::vector<governance::Agent>{};
    };
}

std::unique_ptr<ui::OwnerDesk> make_owner(const ProxyParts& parts, state::StateClient* shared) {
    if (!parts.owner_secret_hash) {
        return nullptr;
    }
    if (parts.database.empty()) {
        throw core::Error(core::ErrorKind::usage,
                          "ui_admin needs the database: every owner action is recorded in it",
                          "unset database = off, or set ui_admin = false");
    }
    auto registry =
        [shared](governance::Database& db) -> std::unique_ptr<governance::AgentRegistry> {
        if (shared != nullptr) {
            return std::make_unique<state::SharedAgents>(*shared);
        }
        return std::make_unique<governance::AgentStore>(db);
    };
    core::Clock clock = parts.clock ? parts.clock : [] { return std::chrono::system_clock::now(); };
    return std::make_unique<ui::OwnerDesk>(parts.database, registry, *parts.owner_secret_hash,
                                           clock);
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
      m_state(parts.state ? std::make_unique<state::StateClient>(*parts.state, parts.on_warning)
                          : nullptr),
      m_governor(make_governor(parts)),
      m_capacity(m_state ? std::make_unique<state::SharedCapacity>(*m_state, parts.state_lease)
                         : nullptr),
      m_ledger(m_database ? std::make_unique<governance::Ledger>(*m_database,
                                                                 std::move(parts.on_ledger_error))
                          : nullptr),
      m_gateway(std::move(parts.tables)),
      m_gate(m_governor.get(), m_ledger.get(), &m_metrics, parts.clock),
      m_embedder(parts.cache.mode == cache::Mode::semantic
                     ? std::make_unique<Embedder>(m_gateway, m_gate, parts.cache.embeddings)
                     : nullptr),
      m_cache(make_cache(parts, m_embedder.get())),
      m_forwarder(m_gateway, m_gate, &m_metrics, parts.stream_keepalive, m_cache.get(),
                  parts.rate_window, m_capacity.get()),
      m_dashboard(parts.database, dashboard_agents(m_state.get(), !parts.database.empty())),
      m_owner(make_owner(parts, m_state.get())),
      m_handler(m_gateway, m_gate, m_forwarder, &m_metrics, parts.metrics_need_token, &m_dashboard,
                m_owner.get()),
      m_server(m_handler, with_observers(std::move(parts.server), &m_metrics, parts.clock)) {}

std::unique_ptr<governance::Governor> Proxy::make_governor(const ProxyParts& parts) {
    if (m_state) {
        return std::make_unique<state::SharedGovernor>(*m_state, parts.require_auth,
                                                       parts.agents_recheck, parts.state_lease);
    }
    if (m_database) {
        return std::make_unique<governance::LocalGovernor>(*m_database, parts.require_auth,
                                                           parts.agents_recheck);
    }
    return nullptr;
}

std::unique_ptr<cache::Cache> Proxy::make_cache(const ProxyParts& parts, Embedder* embedder) {
    if (parts.cache.mode == cache::Mode::off) {
        return nullptr;
    }
    std::unique_ptr<cache::CacheFile> file;
    if (auto path = cache::file_path(parts.cache, parts.database); !path.empty()) {
        file = std::make_unique<cache::CacheFile>(path, parts.on_warning);
    }
    cache::Embed embed;
    if (embedder != nullptr) {
        embed = [embedder](const std::string& text, const std::optional<std::string>& agent) {
            return embedder->embed(text, agent);
        };
    }
    return std::make_unique<cache::Cache>(parts.cache, parts.clock, std::move(file),
                                          std::move(embed));
}

void Proxy::flush_ledger() {
    if (m_cache) {
        m_cache->flush();
    }
    if (m_ledger) {
        m_ledger->flush();
    }
}

} // namespace aimo::proxy
