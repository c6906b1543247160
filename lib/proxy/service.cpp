#include "proxy/service.hpp"

#include "core/error.hpp"
#include "core/file_watch.hpp"
#include "core/json.hpp"
#include "core/paths.hpp"
#include "core/signals.hpp"
#include "proxy/proxy.hpp"
#include "routing/gateway.hpp"
#include "routing/loader.hpp"
#include "ui/owner.hpp"
#include "upstream/chat.hpp"

#include <csignal>
#include <fmt/format.h>
#include <mutex>
#include <optional>
#include <sys/resource.h>

namespace aimo::proxy {

upstream::Url local_proxy_url(std::string host, int port) {
    if (host.empty() || host == "0.0.0.0" || host == "::") {
        host = "127.0.0.1";
    }
    upstream::Url url;
    url.scheme = "http";
    url.host = std::move(host);
    url.port = port;
    url.explicit_port = true;
    return url;
}

namespace {
bool is_loopback(const std::string& host) {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// Every client connection can hold a connection upstream: raises the soft limit on open files
// so `max_connections` clients fit, or says how many do.
std::optional<std::string> fit_open_files(size_t& max_connections) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        return std::nullopt;
    }
    rlim_t wanted = static_cast<rlim_t>(max_connections) * 2 + 64;
    if (limit.rlim_cur < wanted) {
        limit.rlim_cur = std::min(wanted, limit.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    if (limit.rlim_cur >= wanted) {
        return std::nullopt;
    }
    size_t fits = limit.rlim_cur > 128 ? static_cast<size_t>((limit.rlim_cur - 64) / 2) : 32;
    auto message = fmt::format("max_connections {} needs {} open files but this process may "
                               "open {}; accepting {} connections (raise 'ulimit -n')",
                               max_connections, wanted, limit.rlim_cur, fits);
    max_connections = fits;
    return message;
}
} // namespace

bool run_proxy(core::Context& ctx, const config::Config& config, const ServeChoices& choices,
               const std::function<void(const ProxyReady&)>& on_ready) {
    // Before any thread exists: every thread started later inherits the blocked signal mask,
    // so SIGINT/SIGTERM/SIGHUP reach only the watcher. A signal before the server exists is
    // kept.
    std::mutex mutex;
    Proxy* running = nullptr;
    bool stop_requested = false;
    auto log_line = [&ctx](const std::string& line) {
        *ctx.err << line; // one write, so it does not interleave with access log batches
        ctx.err->flush();
    };
    auto reload = [&](const char* why) {
        std::lock_guard lock(mutex);
        if (running == nullptr) {
            return;
        }
        auto problem = running->reload();
        log_line(problem.empty()
                     ? fmt::format("aimo: config reloaded ({})\n", why)
                     : fmt::format("aimo: error: config not reloaded ({}): {}\nhint: the previous "
                                   "config keeps serving; fix the file and save it again\n",
                                   why, problem));
    };
    core::SignalWatcher signals([&](int signal) {
        if (signal == SIGHUP) {
            reload("SIGHUP");
            return;
        }
        std::lock_guard lock(mutex);
        stop_requested = true;
        if (running != nullptr) {
            running->stop();
        }
    });

    if (config.database == "off" && choices.require_auth && !config.state) {
        throw core::Error(core::ErrorKind::usage,
                          "--require-auth needs the database, which holds the agents",
                          "unset database = off");
    }
    ProxyReady ready;
    ready.loopback = is_loopback(config.server.host);
    // The pool, the loader and the proxy live on the heap: see the end for why.
    auto pool_owner =
        std::make_unique<upstream::ClientPool>(config.router.timeouts, config.router.ca_file);
    auto& pool = *pool_owner;
    // The first table comes from the file as read at start; each reload reads it again.
    bool first = true;
    auto env = [&ctx](std::string_view name) { return ctx.getenv(name); };
    auto loader_owner = std::make_unique<routing::TableLoader>(
        ctx, config.router, config.models_cache_ttl, pool, [&] {
            if (first) {
                first = false;
                return config.routing(env);
            }
            return config::reread_routing(ctx, config);
        });
    auto& loader = *loader_owner;
    ready.config_file = config.path.string();
    ProxyParts parts;
    parts.tables = [&loader] { return loader.load(); };
    if (config.database != "off") {
        parts.database = governance::database_path(config.database);
    }
    parts.require_auth = choices.require_auth;
    parts.state = config.state;
    parts.state_lease = config.state_lease;
    parts.metrics_need_token = !ready.loopback;
    parts.stream_keepalive = config.stream_keepalive;
    parts.clock = ctx.now;
    parts.on_ledger_error = [&ctx, path = config.database](const std::string& problem) {
        *ctx.err << "aimo: error: " + problem + "\nhint: check the disk holding " + path + "\n";
    };
    parts.cache = config.cache;
    parts.on_warning = [&ctx](const std::string& warning) {
        *ctx.err << "aimo: warning: " + warning + "\n";
    };
    parts.server = config.server;
    if (auto warning = fit_open_files(parts.server.max_connections)) {
        ready.warnings.push_back(*warning);
    }
    parts.server.log = ctx.err;
    parts.server.clock = ctx.now;
    // A new owner secret is kept only once the proxy is listening, just before it is shown:
    // a start that fails (port in use, say) must not leave a secret nobody has seen.
    auto owner_file = core::data_dir(ctx) / "owner-secret.sha256";
    std::optional<ui::OwnerSecret> fresh;
    if (config.ui_admin) {
        parts.owner_secret_hash = ui::load_owner_secret(owner_file);
        if (!parts.owner_secret_hash) {
            fresh = ui::make_owner_secret();
            parts.owner_secret_hash = fresh->hash;
        }
        ready.owner_actions = true;
    }
    auto proxy_owner = std::make_unique<Proxy>(std::move(parts));
    auto& proxy = *proxy_owner;
    ready.warnings.insert(ready.warnings.begin(), loader.warnings().begin(),
                          loader.warnings().end());
    ready.auth_required = proxy.auth_required();
    ready.state = config.state ? config.state->display() : "";
    if (!ready.loopback && !ready.auth_required && !choices.insecure_no_auth) {
        throw core::Error(core::ErrorKind::usage,
                          fmt::format("refusing to listen on {} without authentication: anyone "
                                      "who can reach it would spend your balance",
                                      config.server.host),
                          "create an agent ('aimo agent create NAME') and give clients its token, "
                          "or add --require-auth; --insecure-no-auth accepts the risk");
    }
    {
        std::lock_guard lock(mutex);
        running = &proxy;
        if (stop_requested) {
            proxy.stop();
        }
    }
    std::optional<core::FileWatcher> watcher;
    if (config.config_poll.count() > 0) {
        watcher.emplace(ready.config_file, config.config_poll, [&] { reload("file changed"); });
    }
    int port = proxy.bind();
    upstream::Url listening = local_proxy_url(config.server.host, port);
    listening.host = config.server.host; // the banner names the address actually bound
    ready.base_url = listening.join("/v1");
    ready.address = loader.address();
    ui::Dashboard::Balance balance;
    if (auto router = loader.router()) {
        balance = [router = *router] {
            auto answer = upstream::fetch_balance(router);
            return upstream::balance_amount(answer).value_or(core::json_text(answer));
        };
    }
    proxy.set_wallet(ready.address, std::move(balance));
    auto table = proxy.gateway().current();
    if (table->config().implicit) {
        ready.router = config.router.url.origin() + config.router.url.path;
    } else {
        ready.providers = routing::describe_providers(*table);
    }
    if (fresh) {
        ui::save_owner_secret(owner_file, fresh->hash);
        ready.owner_secret = fresh->secret;
    }
    on_ready(ready);
    bool drained = proxy.run();
    watcher.reset();
    {
        std::lock_guard lock(mutex);
        running = nullptr;
    }
    if (proxy.in_flight() > 0) {
        // Requests cut off at the drain timeout whose threads still wait on an upstream (a read
        // blocks until it answers or read_timeout passes) still use the proxy, the loader and
        // the pool: destroying them under those threads crashed aimo on its way out. They are
        // left to the process's exit instead, once what was recorded is on disk.
        proxy.flush_ledger();
        [[maybe_unused]] auto* left_proxy = proxy_owner.release();
        [[maybe_unused]] auto* left_loader = loader_owner.release();
        [[maybe_unused]] auto* left_pool = pool_owner.release();
    }
    return drained;
}

} // namespace aimo::proxy
