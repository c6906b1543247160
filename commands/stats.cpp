#include "governance/stats.hpp"

#include "core/json.hpp"
#include "registry.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <ostream>

namespace aimo::commands {

namespace {
struct StatsFlags {
    SettingFlags settings;
    std::string by = "agent";
    std::string since;
    std::vector<std::string> databases;
    bool json = false;
};

int run_stats(core::Context& ctx, const StatsFlags& flags) {
    std::string since =
        flags.since.empty() ? std::string() : governance::since_timestamp(flags.since, ctx.now());
    auto ledgers = open_ledgers(ctx, flags.settings, flags.databases);
    std::vector<governance::Database*> each;
    for (auto& ledger : ledgers) {
        each.push_back(ledger.get());
    }
    auto rows = governance::stats_since(each, since, flags.by);
    if (flags.json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& row : rows) {
            out.push_back({{flags.by, row.key},
                           {"requests", row.requests},
                           {"errors", row.errors},
                           {"denied", row.denied},
                           {"tokens_in", row.tokens_in},
                           {"tokens_out", row.tokens_out},
                           {"cost_usd", row.cost_usd},
                           {"p50_ms", static_cast<double>(row.p50_us) / 1000.0},
                           {"p95_ms", static_cast<double>(row.p95_us) / 1000.0},
                           {"queue_p50_ms", static_cast<double>(row.queue_p50_us) / 1000.0},
                           {"queue_p95_ms", static_cast<double>(row.queue_p95_us) / 1000.0},
                           {"cache_hits", row.cache_hits},
                           {"cache_hit_rate", row.hit_rate()},
                           {"saved_usd", row.saved_usd}});
        }
        *ctx.out << core::json_text(out, 2) << "\n";
        return 0;
    }
    size_t width = flags.by.size();
    for (const auto& row : rows) {
        width = std::max(width, row.key.size());
    }
    std::string header = flags.by;
    std::transform(header.begin(), header.end(), header.begin(), ::toupper);
    *ctx.out << fmt::format(
        "{:<{}}  {:>8} {:>7} {:>7} {:>10} {:>10} {:>12} {:>9} {:>9} {:>9} {:>9} {:>6} {:>6} "
        "{:>10}\n",
        header, width, "REQUESTS", "ERRORS", "DENIED", "TOKENS IN", "TOKENS OUT", "COST $",
        "P50 ms", "P95 ms", "QUEUE P50", "QUEUE P95", "HITS", "HIT %", "SAVED $");
    for (const auto& row : rows) {
        *ctx.out << fmt::format("{:<{}}  {:>8} {:>7} {:>7} {:>10} {:>10} {:>12.6f} {:>9.1f} "
                                "{:>9.1f} {:>9.1f} {:>9.1f} {:>6} {:>5.0f}% {:>10.6f}\n",
                                row.key, width, row.requests, row.errors, row.denied, row.tokens_in,
                                row.tokens_out, row.cost_usd,
                                static_cast<double>(row.p50_us) / 1000.0,
                                static_cast<double>(row.p95_us) / 1000.0,
                                static_cast<double>(row.queue_p50_us) / 1000.0,
                                static_cast<double>(row.queue_p95_us) / 1000.0, row.cache_hits,
                                row.hit_rate() * 100, row.saved_usd);
    }
    if (rows.empty()) {
        *ctx.err << "no requests recorded" << (since.empty() ? "" : " since " + since) << "\n";
    }
    return 0;
}
} // namespace

CommandSpec register_stats(CLI::App& root) {
    auto flags = std::make_shared<StatsFlags>();
    auto* app = root.add_subcommand(
        "stats", "Requests, errors, tokens, cost, latency and cache savings from the usage ledger");
    app->add_option("--by", flags->by, "Group by agent, model, provider, client, dialect or day")
        ->check(CLI::IsMember({"agent", "model", "provider", "client", "dialect", "day"}));
    app->add_option("--since", flags->since,
                    "From a date, a UTC time, or a span back from now (30m, 24h, 7d)");
    app->add_flag("--json", flags->json, "Print JSON");
    // Several ledgers (one per instance sharing a state server) are read as one.
    app->add_option("--database", flags->databases,
                    "Ledger file to read; repeat to merge several instances' (default: the "
                    "database setting) [env AIMO_DATABASE]")
        ->type_name("PATH");
    return {app, [flags](core::Context& ctx) { return run_stats(ctx, *flags); }};
}

} // namespace aimo::commands
