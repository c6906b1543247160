#include "proxy/service.hpp"

#include "core/error.hpp"
#include "core/signals.hpp"

#include <fmt/format.h>
#include <mutex>

namespace aimo::proxy {

ProxyConfig proxy_config(const core::Settings& settings) {
    ProxyConfig config;
    config.router = upstream::router_settings(settings);
    config.server.host = settings.value("host");
    if (config.server.host.empty()) {
        throw core::Error(core::ErrorKind::usage, "the listen host is empty",
                          "use --host 127.0.0.1 (or another address of this machine)");
    }
    config.server.port = static_cast<int>(settings.get_int("port", 0, 65535));
    config.server.max_body_bytes =
        static_cast<size_t>(settings.get_int("max_body_bytes", 1024, 1LL << 32));
    config.server.drain_timeout = std::chrono::seconds(settings.get_int("drain_timeout", 0, 3600));
    config.server.log_format = parse_log_format(settings.value("log_format"));
    config.models_cache_ttl = std::chrono::seconds(settings.get_int("models_cache_ttl", 0, 86400));
    return config;
}

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

bool run_proxy(core::Context& ctx, const ProxyConfig& config,
               const std::function<void(const ProxyReady&)>& on_ready) {
    // Before any thread exists: every thread started later inherits the blocked signal mask,
    // so SIGINT/SIGTERM reach only the watcher. A signal before the server exists is kept.
    std::mutex mutex;
    Server* running = nullptr;
    bool stop_requested = false;
    core::SignalWatcher signals([&](int) {
        std::lock_guard lock(mutex);
        stop_requested = true;
        if (running != nullptr) {
            running->stop();
        }
    });
    ProxyReady ready;
    auto client = upstream::make_router_client(ctx, config.router, ready.warnings);
    Handler handler(client->router, config.models_cache_ttl);
    ServerOptions options = config.server;
    options.log = ctx.err;
    options.clock = ctx.now;
    Server server(handler, options);
    {
        std::lock_guard lock(mutex);
        running = &server;
        if (stop_requested) {
            server.stop();
        }
    }
    int port = server.bind();
    upstream::Url listening = local_proxy_url(options.host, port);
    listening.host = options.host; // the banner names the address actually bound
    ready.base_url = listening.join("/v1");
    ready.address = client->router.address();
    ready.loopback =
        options.host == "localhost" || options.host == "::1" || options.host.rfind("127.", 0) == 0;
    ready.router = config.router.url.origin() + config.router.url.path;
    on_ready(ready);
    bool drained = server.run();
    std::lock_guard lock(mutex);
    running = nullptr;
    return drained;
}

} // namespace aimo::proxy
