#pragma once

#include "proxy/proxy.hpp"
#include "vectors.hpp"

#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace aimo::test {

/// Options for a proxy under test.
struct ProxyFixtureOptions {
    upstream::Timeouts timeouts{std::chrono::milliseconds(2000), std::chrono::milliseconds(5000)};
    std::chrono::seconds models_ttl{60};
    size_t max_body_bytes = 32 * 1024 * 1024;
    size_t max_connections = 1024;
    std::chrono::milliseconds header_timeout{10'000};
    std::chrono::milliseconds body_timeout{60'000};
    std::chrono::milliseconds idle_timeout{5'000};
    std::chrono::seconds drain_timeout{5};
    proxy::LogFormat log_format = proxy::LogFormat::text;
    std::string ca_file; ///< trust only this CA for https routers
    /// Routing tables of config.toml ([[providers]], [[routes]], …); empty: the router alone.
    std::string config;
    std::map<std::string, std::string> env; ///< what api_key_env names resolve to
    std::chrono::milliseconds stream_keepalive{0};
    /// When set: agents, limits and the usage ledger in this SQLite file.
    std::filesystem::path database;
    bool require_auth = false;
    bool metrics_need_token = false; ///< as when aimo listens beyond loopback
    /// The response cache (as `[cache]` would set it); its file beside `database` unless
    /// `cache.file` says otherwise.
    cache::Settings cache;
    core::Clock clock; ///< record timestamps and cache ages; empty: the system clock
    /// The "minute" of providers' rpm and tpm.
    std::chrono::milliseconds rate_window{60'000};
    /// The owner secret's hash: the dashboard's owner actions are on.
    std::optional<std::string> owner_secret_hash;
    /// The dashboard shows the wallet and asks the router for its balance.
    bool dashboard_balance = false;
};

/// The real proxy, wired as `aimo serve` wires it (proxy::Proxy), in-process on a free loopback
/// port; routing tables come from `options.config` and sign with the RFC 8032 key; "aimo"
/// providers default to `router_url`. Ready when constructed; stopped and joined on
/// destruction.
class ProxyFixture {
public:
    explicit ProxyFixture(const std::string& router_url, ProxyFixtureOptions options = {});
    ~ProxyFixture();

    int port() const { return m_port; }
    /// Stops the server and returns the access log written so far.
    std::string stop_and_log();
    /// Replaces the routing config as a reload would; returns the error, empty on success.
    std::string reload(const std::string& config);

    upstream::ClientPool pool;
    /// Waits until every finished request's record is committed.
    void flush_ledger();
    /// The governance database (only with options.database).
    governance::Database& db() { return *m_proxy.database(); }
    /// The response cache, or nullptr when it is off.
    cache::Cache* cache() { return m_proxy.cache(); }
    /// The upstream capacity requests wait for.
    sched::Scheduler& scheduler() { return m_proxy.scheduler(); }
    /// Worker threads serving a connection right now.
    size_t busy_workers() const { return m_proxy.busy_workers(); }
    /// Worker threads that exist, idle ones included.
    size_t worker_threads() const { return m_proxy.worker_threads(); }
    /// Warnings the proxy gave (a cache file discarded, say).
    std::string warnings();

private:
    std::shared_ptr<const routing::Table> build();
    proxy::ProxyParts parts();

    ProxyFixtureOptions m_options;
    routing::RoutingDefaults m_defaults;
    std::shared_ptr<const crypto::SiwxSigner> m_signer;
    std::mutex m_config_mutex;
    std::string m_config;
    std::ostringstream m_log;
    std::mutex m_warnings_mutex;
    std::string m_warnings;
    proxy::Proxy m_proxy;
    std::thread m_thread;
    int m_port = -1;
};

} // namespace aimo::test
