#include "cache/cache.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "registry.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <ostream>

namespace aimo::commands {

namespace {
struct CacheFlags {
    SettingFlags settings;
    std::string agent;
    bool json = false;
    CLI::App* stats = nullptr;
    CLI::App* clear = nullptr;
};

std::filesystem::path cache_path(const core::Context& ctx, const CacheFlags& flags) {
    auto config = load_config(ctx, flags.settings);
    if (config.cache.mode == cache::Mode::off) {
        throw core::Error(core::ErrorKind::usage,
                          "the response cache is off ([cache] mode = \"off\")",
                          "set [cache] mode = \"exact\" in config.toml to use it");
    }
    auto path = config.cache_file();
    if (path.empty()) {
        throw core::Error(core::ErrorKind::usage,
                          "the response cache keeps no file (database = off or [cache] file = "
                          "\"off\"): it lives in the proxy's memory only",
                          "restart the proxy to empty it, or give [cache] a file");
    }
    return path;
}

int run_stats(core::Context& ctx, const CacheFlags& flags) {
    auto path = cache_path(ctx, flags);
    auto totals = cache::file_totals(path);
    if (flags.json) {
        nlohmann::json out = {{"file", path.string()}, {"namespaces", nlohmann::json::array()}};
        for (const auto& [space, t] : totals) {
            out["namespaces"].push_back(
                {{"namespace", space}, {"entries", t.entries}, {"bytes", t.bytes}});
        }
        *ctx.out << core::json_text(out, 2) << "\n";
        return 0;
    }
    size_t width = 9;
    for (const auto& [space, t] : totals) {
        width = std::max(width, space.size());
    }
    *ctx.out << fmt::format("{:<{}}  {:>8} {:>12}\n", "NAMESPACE", width, "ENTRIES", "BYTES");
    cache::Totals all;
    for (const auto& [space, t] : totals) {
        *ctx.out << fmt::format("{:<{}}  {:>8} {:>12}\n", space, width, t.entries, t.bytes);
        all.entries += t.entries;
        all.bytes += t.bytes;
    }
    *ctx.err << fmt::format("{} entries, {} bytes in {} (hits and savings: aimo stats)\n",
                            all.entries, all.bytes, path.string());
    return 0;
}

int run_clear(core::Context& ctx, const CacheFlags& flags) {
    auto path = cache_path(ctx, flags);
    std::optional<std::string> space;
    if (!flags.agent.empty()) {
        space = flags.agent;
    }
    size_t removed = cache::file_clear(path, space);
    *ctx.err << fmt::format("removed {} cached answer{}{}; a running proxy forgets them within a "
                            "second\n",
                            removed, removed == 1 ? "" : "s",
                            space ? " of agent '" + *space + "'" : std::string());
    return 0;
}
} // namespace

CommandSpec register_cache(CLI::App& root) {
    auto flags = std::make_shared<CacheFlags>();
    auto* app = root.add_subcommand("cache", "Look into or empty the response cache");
    app->require_subcommand(1);
    flags->stats = app->add_subcommand("stats", "Cached answers and their bytes, by namespace");
    flags->stats->add_flag("--json", flags->json, "Print JSON");
    flags->clear = app->add_subcommand("clear", "Forget cached answers (all, or one agent's)");
    flags->clear->add_option("--agent", flags->agent,
                             "Only this agent's answers ('-': those of requests without an "
                             "agent, '*': the shared namespace)");
    for (auto* sub : {flags->stats, flags->clear}) {
        add_setting_flag(*sub, flags->settings, "database");
    }
    return {app, [flags](core::Context& ctx) {
                return flags->stats->parsed() ? run_stats(ctx, *flags) : run_clear(ctx, *flags);
            }};
}

} // namespace aimo::commands
