#include "doctor/doctor.hpp"

#include "cache/cache.hpp"
#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/json.hpp"
#include "crypto/keypair.hpp"
#include "openclaw/connect.hpp"
#include "openclaw/edit.hpp"
#include "openclaw/json5.hpp"
#include "openclaw/locate.hpp"
#include "proxy/service.hpp"
#include "routing/loader.hpp"
#include "upstream/catalogue.hpp"
#include "upstream/chat.hpp"
#include "upstream/router_client.hpp"

#include <algorithm>
#include <ctime>
#include <fmt/format.h>
#include <optional>

namespace aimo::doctor {

namespace {
using openclaw::Json;

Check pass(std::string name, std::string message) {
    return {std::move(name), Status::pass, std::move(message), {}};
}
Check warn(std::string name, std::string message, std::string fix) {
    return {std::move(name), Status::warn, std::move(message), std::move(fix)};
}
Check fail(std::string name, std::string message, std::string fix) {
    return {std::move(name), Status::fail, std::move(message), std::move(fix)};
}

std::optional<std::time_t> parse_http_date(const std::string& text) {
    std::tm tm{};
    if (strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) {
        return std::nullopt;
    }
    return timegm(&tm);
}

struct RouterState {
    std::optional<upstream::RouterSettings> settings;
    std::unique_ptr<upstream::RouterClient> client; ///< when the keypair loaded
    bool reachable = false;
};

Check check_keypair(const core::Context& ctx, const config::Config& config, RouterState& router) {
    std::string path = config.router.keypair.string();
    router.settings = config.router;
    try {
        std::vector<std::string> warnings;
        router.client = upstream::make_router_client(ctx, *router.settings, warnings);
        auto mode = core::file_mode(path);
        if ((mode & 077) != 0) {
            return warn("keypair",
                        fmt::format("{} is readable by others (mode {:04o})", path, mode),
                        "chmod 600 " + path);
        }
        return pass("keypair", fmt::format("{} ({}, mode {:04o})", router.client->router.address(),
                                           path, mode));
    } catch (const core::Error& e) {
        return fail("keypair", e.what(), e.hint().empty() ? "run 'aimo keygen'" : e.hint());
    }
}

Check check_router(const core::Context& ctx, RouterState& router) {
    if (!router.settings) {
        return fail("router", "the router URL is invalid", "fix --router-url / AIMO_ROUTER_URL");
    }
    const auto& url = router.settings->url;
    try {
        auto response = upstream::fetch_once(url, url.path + "/api/v1/models",
                                             router.settings->timeouts, router.settings->ca_file);
        router.reachable = true;
        const std::string* date = response.header("date");
        auto remote = date ? parse_http_date(*date) : std::nullopt;
        if (!remote) {
            return warn("router",
                        fmt::format("{} answers (HTTP {}) but sent no Date to compare "
                                    "clocks with",
                                    url.origin(), response.status),
                        "make sure this machine's clock is synchronised (timedatectl)");
        }
        auto local = std::chrono::system_clock::to_time_t(ctx.now());
        auto skew = static_cast<long long>(local - *remote);
        if (std::llabs(skew) > 60) {
            return fail("router",
                        fmt::format("this machine's clock is {} s {} the router's; signatures "
                                    "expire, so requests will be refused",
                                    std::llabs(skew), skew > 0 ? "ahead of" : "behind"),
                        "synchronise the clock, e.g. 'sudo timedatectl set-ntp true'");
        }
        // Which unit the catalogue's prices were read in: budgets depend on it.
        std::string prices;
        try {
            auto catalogue = upstream::parse_catalogue(response.body, url.origin());
            if (!catalogue.warnings.empty()) {
                return warn("router", catalogue.warnings.front(),
                            "budgets cannot be held for that model; set prices with a "
                            "[[providers]] entry's price_in / price_out");
            }
            prices = fmt::format("; prices read as {}", upstream::to_string(catalogue.price_unit));
        } catch (const core::Error&) {
        }
        return pass("router", fmt::format("{} answers (HTTP {}); clocks agree within {} s{}",
                                          url.origin(), response.status, std::llabs(skew), prices));
    } catch (const core::Error& e) {
        return fail("router", e.what(), "check the network and --router-url");
    }
}

Check check_signature(RouterState& router) {
    if (!router.client || !router.reachable) {
        return warn("signature", "skipped: needs a valid keypair and a reachable router",
                    "fix the checks above first");
    }
    try {
        auto balance = upstream::fetch_balance(router.client->router);
        std::string shown = upstream::balance_amount(balance).value_or(core::json_text(balance));
        return pass("signature", "the router accepted a signed request; balance: " + shown);
    } catch (const core::Error& e) {
        return fail("signature", e.what(),
                    e.hint().empty() ? "check the keypair and the clock" : e.hint());
    }
}

Check check_proxy(const config::Config& config) {
    int port = 0;
    try {
        port = config::connect_port(config);
    } catch (const core::Error& e) {
        return fail("proxy", e.what(), e.hint());
    }
    std::string base;
    try {
        auto url = proxy::local_proxy_url(config.server.host, port);
        base = url.origin();
        auto response = upstream::fetch_once(url, "/health",
                                             {std::chrono::seconds(2), std::chrono::seconds(5)});
        Json body = Json::parse(response.body, nullptr, false);
        auto text = [&](const char* key) {
            return body.is_object() && body.contains(key) && body[key].is_string()
                       ? body[key].get<std::string>()
                       : std::string();
        };
        if (response.status == 200 && text("service") == "aimo") {
            return pass("proxy", fmt::format("aimo {} answers at {}/v1", text("version"), base));
        }
        return fail(
            "proxy",
            fmt::format("something other than aimo answers at {} (HTTP {})", base, response.status),
            "stop that program or run aimo on another --port (and reconnect OpenClaw)");
    } catch (const core::Error& e) {
        return fail("proxy", fmt::format("nothing answers at {}: {}", base, e.what()),
                    "start it with 'aimo chat --serve'");
    }
}

// Each configured provider: its key variable is set and its model list can be had.
void check_providers(const core::Context& ctx, const config::Config& config,
                     std::vector<Check>& checks) {
    auto env = [&ctx](std::string_view name) { return ctx.getenv(name); };
    routing::RoutingConfig routing;
    try {
        routing = config.routing(env);
    } catch (const core::Error& e) {
        checks.push_back(fail("providers", e.what(), e.hint()));
        return;
    }
    if (routing.implicit) {
        return; // the router alone, checked above
    }
    std::shared_ptr<const routing::Table> table;
    upstream::ClientPool pool(config.router.timeouts, config.router.ca_file);
    try {
        routing::TableLoader loader(ctx, config.router, std::chrono::seconds(0), pool,
                                    [&routing] { return routing; });
        table = loader.load();
    } catch (const core::Error& e) {
        checks.push_back(fail("providers", e.what(), e.hint()));
        return;
    }
    for (const auto& provider : table->providers()) {
        std::string name = "provider " + provider.name();
        std::string where = provider.url().origin() + provider.url().path;
        try {
            auto models = provider.fetch_models();
            checks.push_back(
                pass(name, fmt::format("{}: {} model(s){}", where, models.models.size(),
                                       provider.config().api_key_env.empty()
                                           ? ""
                                           : ", key from " + provider.config().api_key_env)));
        } catch (const core::Error& e) {
            checks.push_back(fail(name, e.what(),
                                  fmt::format("check that {} is up and its base_url in {} is "
                                              "right",
                                              where, config.path.string())));
        }
    }
}

// The response cache: how it is set, where its file is and what it holds, and for the
// semantic mode whether its embeddings model can be routed.
Check check_cache(const core::Context& ctx, const config::Config& config) {
    const auto& settings = config.cache;
    if (settings.mode == cache::Mode::off) {
        return pass("cache", "off ([cache] mode = \"off\")");
    }
    std::string what = fmt::format(
        "{}, ttl {} s, {} MiB, {}{}", settings.mode == cache::Mode::semantic ? "semantic" : "exact",
        settings.ttl_seconds, settings.max_bytes >> 20,
        settings.shared ? "one shared namespace" : "a namespace per agent",
        settings.sampled ? ", sampled requests too" : ", temperature-0 requests only");
    if (settings.mode == cache::Mode::semantic) {
        auto env = [&ctx](std::string_view name) { return ctx.getenv(name); };
        try {
            auto routing = config.routing(env);
            bool known =
                std::any_of(routing.providers.begin(), routing.providers.end(),
                            [&](const routing::ProviderConfig& provider) {
                                return settings.embeddings.rfind(provider.name + "/", 0) == 0;
                            });
            if (!known) {
                return fail("cache",
                            fmt::format("embeddings = \"{}\" names no configured provider",
                                        settings.embeddings),
                            "write it as \"<provider>/<model>\" with a [[providers]] name");
            }
        } catch (const core::Error& e) {
            return fail("cache", e.what(), e.hint());
        }
    }
    auto path = config.cache_file();
    if (path.empty()) {
        return pass("cache", what + "; in memory only");
    }
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return pass("cache", what + "; " + path.string() + " (created on first use)");
    }
    try {
        size_t entries = 0;
        for (const auto& [space, totals] : cache::file_totals(path)) {
            entries += totals.entries;
        }
        return pass("cache", fmt::format("{}; {} answer(s) in {}", what, entries, path.string()));
    } catch (const core::Error& e) {
        return fail("cache", e.what(), e.hint());
    }
}

void check_openclaw(const core::Context& ctx, const config::Config& settings,
                    const std::string& provider_id, std::vector<Check>& checks) {
    openclaw::Location where;
    try {
        where = openclaw::locate(ctx);
    } catch (const core::Error& e) {
        checks.push_back(warn("openclaw-config", e.what(), e.hint()));
        return;
    }
    std::string path = where.config.string();
    if (where.read_only) {
        checks.push_back(warn("openclaw-readonly",
                              "OPENCLAW_CONFIG_READONLY=1: nobody, aimo included, may edit it",
                              "unset it before 'aimo connect openclaw'"));
    }
    std::string text;
    try {
        text = core::read_file(where.config);
    } catch (const core::Error& e) {
        checks.push_back(warn("openclaw-config",
                              fmt::format("no OpenClaw config at {} ({})", path, where.reason),
                              "if you use OpenClaw: 'aimo connect openclaw'"));
        return;
    }
    Json config;
    try {
        config = openclaw::parse_json5_object(text, path);
    } catch (const core::Error& e) {
        checks.push_back(fail("openclaw-config", e.what(), e.hint()));
        return;
    }
    checks.push_back(pass("openclaw-config", path + " is valid JSON5"));

    const Json* provider = nullptr;
    if (config.contains("models") && config["models"].is_object() &&
        config["models"].contains("providers") && config["models"]["providers"].is_object() &&
        config["models"]["providers"].contains(provider_id)) {
        provider = &config["models"]["providers"][provider_id];
    }
    std::string expected_port = std::to_string(settings.server.port);
    if (provider == nullptr || !provider->is_object()) {
        checks.push_back(fail("openclaw-provider",
                              fmt::format("no '{}' provider in {}", provider_id, path),
                              "run 'aimo connect openclaw'"));
    } else {
        // Values of any type may be in a hand-edited file; only strings count.
        auto text_of = [&](const char* key) {
            return provider->contains(key) && (*provider)[key].is_string()
                       ? (*provider)[key].get<std::string>()
                       : std::string();
        };
        std::string base_url = text_of("baseUrl");
        std::string api = text_of("api");
        // Anthropic clients add /v1/messages themselves, so that provider names the root.
        bool anthropic = api == "anthropic-messages";
        std::string tail = anthropic ? fmt::format(":{}", expected_port) : "/v1";
        std::string problem;
        if (api != "openai-completions" && api != "openai-responses" && !anthropic) {
            problem = fmt::format("'api' is '{}', not one of openai-completions, openai-responses, "
                                  "anthropic-messages",
                                  api);
        } else if (base_url.size() < tail.size() ||
                   base_url.compare(base_url.size() - tail.size(), tail.size(), tail) != 0) {
            problem = anthropic ? fmt::format("baseUrl '{}' is not the proxy's root on port {}",
                                              base_url, expected_port)
                                : fmt::format("baseUrl '{}' does not end in /v1", base_url);
        } else if (!anthropic && base_url.find(":" + expected_port + "/") == std::string::npos) {
            problem = fmt::format("baseUrl '{}' is not on port {}", base_url, expected_port);
        } else if (text_of("apiKey").empty()) {
            problem = "'apiKey' is empty; OpenClaw will refuse to call it";
        }
        if (problem.empty()) {
            checks.push_back(pass("openclaw-provider",
                                  "'" + provider_id + "' at " + base_url + " (" + api + ")"));
        } else {
            checks.push_back(fail("openclaw-provider", problem, "run 'aimo connect openclaw'"));
        }
    }

    std::string primary = openclaw::default_primary(config);
    std::string prefix = provider_id + "/";
    if (primary.rfind(prefix, 0) == 0) {
        checks.push_back(pass("openclaw-default-model", primary));
    } else {
        checks.push_back(warn("openclaw-default-model",
                              fmt::format("OpenClaw's default model is {}, not an aimo model",
                                          primary.empty() ? "unset" : primary),
                              "run 'aimo connect openclaw' (or pick aimo/… in OpenClaw)"));
    }
    if (!primary.empty()) {
        const Json& defaults = config.contains("agents") && config["agents"].contains("defaults")
                                   ? config["agents"]["defaults"]
                                   : Json::object();
        std::string blocked;
        if (defaults.contains("modelPolicy") && defaults["modelPolicy"].contains("allow") &&
            defaults["modelPolicy"]["allow"].is_array() &&
            !defaults["modelPolicy"]["allow"].empty()) {
            const auto& allow = defaults["modelPolicy"]["allow"];
            if (std::find(allow.begin(), allow.end(), Json(primary)) == allow.end()) {
                blocked = "agents.defaults.modelPolicy.allow";
            }
        }
        if (defaults.contains("models") && defaults["models"].is_object() &&
            !defaults["models"].contains(primary)) {
            blocked = "agents.defaults.models";
        }
        if (blocked.empty()) {
            checks.push_back(pass("openclaw-allowlist", primary + " is allowed"));
        } else {
            checks.push_back(fail("openclaw-allowlist",
                                  fmt::format("{} is not in {}", primary, blocked),
                                  "run 'aimo connect openclaw' (it adds it)"));
        }
    }

    auto stale = openclaw::find_stale_registries(where, provider_id);
    if (stale.empty()) {
        checks.push_back(pass("openclaw-registries", "no per-agent models.json overrides aimo"));
    } else {
        checks.push_back(fail("openclaw-registries",
                              fmt::format("{} has a stale '{}' entry that overrides the config",
                                          stale.front().path.string(), provider_id),
                              "run 'aimo connect openclaw' (it removes them, with a backup)"));
    }
}
} // namespace

std::string_view to_string(Status status) {
    switch (status) {
    case Status::pass:
        return "PASS";
    case Status::warn:
        return "WARN";
    case Status::fail:
        return "FAIL";
    }
    return "FAIL";
}

std::vector<Check> run_checks(const core::Context& ctx, const config::Config& config,
                              const std::string& provider_id) {
    std::vector<Check> checks;
    RouterState router;
    checks.push_back(check_keypair(ctx, config, router));
    checks.push_back(check_router(ctx, router));
    checks.push_back(check_signature(router));
    check_providers(ctx, config, checks);
    checks.push_back(check_cache(ctx, config));
    for (auto& check : check_state(config)) {
        checks.push_back(std::move(check));
    }
    checks.push_back(check_proxy(config));
    check_openclaw(ctx, config, provider_id, checks);
    return checks;
}

} // namespace aimo::doctor
