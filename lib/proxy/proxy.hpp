#pragma once

#include "cache/cache.hpp"
#include "governance/gate.hpp"
#include "governance/governor.hpp"
#include "governance/ledger.hpp"
#include "metrics/metrics.hpp"
#include "proxy/embedder.hpp"
#include "proxy/forwarder.hpp"
#include "proxy/handler.hpp"
#include "proxy/server.hpp"
#include "routing/gateway.hpp"
#include "state/client.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace aimo::proxy {

/// What a proxy is made of, as plain data.
struct ProxyParts {
    routing::Gateway::Factory tables; ///< builds the routing table (first now, then on reload)
    std::filesystem::path database;   ///< agents and the ledger; empty: neither
    bool require_auth = false;        ///< agent tokens even while no agent exists
    bool metrics_need_token = false;  ///< /metrics asks for a token (when beyond loopback)
    /// How often the governor looks for agents another process changed.
    std::chrono::milliseconds agents_recheck{100};
    std::chrono::milliseconds stream_keepalive{10'000}; ///< see RespondOptions::keepalive
    ServerOptions server;                               ///< its log, clock and metrics are set here
    core::Clock clock;                                  ///< record timestamps
    std::function<void(const std::string&)> on_ledger_error; ///< records that could not be stored
    cache::Settings cache; ///< the response cache; its file beside the database by default
    std::function<void(const std::string&)> on_warning; ///< a cache file discarded, say
    /// The "minute" of the providers' rpm and tpm (shorter only in tests).
    std::chrono::milliseconds rate_window{60'000};
    /// The state server the agents, budgets and rate windows live in, shared with other
    /// instances; unset: the database holds the agents and this process the rest.
    std::optional<state::RedisAddress> state;
    std::chrono::milliseconds state_lease{30'000}; ///< see state::SharedGovernor
    /// The owner secret's hash: the dashboard's owner actions are on (they need the database,
    /// which records them); unset: the dashboard is read-only.
    std::optional<std::string> owner_secret_hash;
};

/// A proxy wired in one place, for `aimo serve` and the tests alike: metrics, the database with
/// ledger, the governor (local, or over the state server), the routing gateway, the gate, the
/// forwarder, the routes and the server. Construction builds the first routing table and opens the
/// database (their errors are start-up errors); nothing listens until bind().
class Proxy {
public:
    explicit Proxy(ProxyParts parts);
    Proxy(const Proxy&) = delete;
    Proxy& operator=(const Proxy&) = delete;

    /// Binds the listening socket and returns the port.
    int bind() { return m_server.bind(); }
    /// Serves until stop(); true when every request finished within the drain timeout.
    bool run() { return m_server.run(); }
    /// Stops accepting; safe from any thread.
    void stop() { m_server.stop(); }
    /// Rebuilds the routing table; the error message, empty on success.
    std::string reload() { return m_gateway.reload(); }

    routing::Gateway& gateway() { return m_gateway; }
    metrics::Metrics& metrics() { return m_metrics; }
    /// The database, or nullptr when it is off.
    governance::Database* database() { return m_database.get(); }
    /// Waits until every finished request's record is committed (and the cache's file and
    /// embeddings have caught up).
    void flush_ledger();
    /// The response cache, or nullptr when it is off.
    cache::Cache* cache() { return m_cache.get(); }
    /// The upstream capacity requests wait for.
    sched::Scheduler& scheduler() { return m_forwarder.scheduler(); }
    /// The wallet address the dashboard shows, and how it asks the router for its balance
    /// (null: no router).
    void set_wallet(std::string address, ui::Dashboard::Balance balance) {
        m_handler.set_wallet(std::move(address));
        m_dashboard.set_balance(std::move(balance));
    }
    /// Requests being handled right now.
    size_t in_flight() const { return m_server.in_flight(); }
    /// Worker threads serving a connection right now (see Server::busy_workers).
    size_t busy_workers() const { return m_server.busy_workers(); }
    /// Worker threads that exist, idle ones included (see Server::worker_threads).
    size_t worker_threads() const { return m_server.worker_threads(); }
    /// True when requests must carry an agent's token.
    bool auth_required() { return m_governor && m_governor->auth_required(); }

private:
    static std::unique_ptr<cache::Cache> make_cache(const ProxyParts& parts, Embedder* embedder);
    std::unique_ptr<governance::Governor> make_governor(const ProxyParts& parts);

    metrics::Metrics m_metrics;
    std::unique_ptr<governance::Database> m_database;
    std::unique_ptr<state::StateClient> m_state;
    std::unique_ptr<governance::Governor> m_governor;
    std::unique_ptr<sched::SharedLimits> m_capacity; ///< with a state server: its counts
    std::unique_ptr<governance::Ledger> m_ledger;
    routing::Gateway m_gateway;
    governance::Gate m_gate;
    std::unique_ptr<Embedder> m_embedder;
    std::unique_ptr<cache::Cache> m_cache;
    Forwarder m_forwarder;
    ui::Dashboard m_dashboard;
    std::unique_ptr<ui::OwnerDesk> m_owner;
    Handler m_handler;
    Server m_server;
};

} // namespace aimo::proxy
