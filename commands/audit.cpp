#include "core/json.hpp"
#include "core/signals.hpp"
#include "governance/ledger.hpp"
#include "governance/owner_log.hpp"
#include "registry.hpp"

#include <atomic>
#include <condition_variable>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <ostream>

namespace aimo::commands {

namespace {
struct AuditFlags {
    SettingFlags settings;
    int64_t lines = 20;
    bool follow = false;
    bool json = false;
    int poll_ms = 500;
    std::vector<std::string> databases; ///< verify: several ledgers, each checked
    CLI::App* verify = nullptr;
    CLI::App* tail = nullptr;
    CLI::App* owner = nullptr;
};

std::string line_of(const governance::StoredRecord& stored, bool json) {
    const auto& r = stored.record;
    if (json) {
        return core::json_text(nlohmann::json{{"seq", stored.seq},
                                              {"time", r.time},
                                              {"request_id", r.request_id},
                                              {"agent", r.agent},
                                              {"model", r.model},
                                              {"provider", r.provider},
                                              {"status", r.status},
                                              {"prompt_tokens", r.prompt_tokens},
                                              {"completion_tokens", r.completion_tokens},
                                              {"cost_usd", r.cost_usd},
                                              {"latency_us", r.latency_us},
                                              {"cache", r.cache},
                                              {"saved_usd", r.saved_usd},
                                              {"client", r.client},
                                              {"hash", stored.hash}}) +
               "\n";
    }
    return fmt::format("{:>6} {} {} agent={} model={} provider={} status={} tokens={}/{} "
                       "cost=${:.6f} latency_us={} hash={}\n",
                       stored.seq, r.time, r.request_id, r.agent, r.model.empty() ? "-" : r.model,
                       r.provider, r.status, r.prompt_tokens, r.completion_tokens, r.cost_usd,
                       r.latency_us, stored.hash.substr(0, 12));
}

int run_verify(core::Context& ctx, const AuditFlags& flags) {
    auto ledgers = open_ledgers(ctx, flags.settings, flags.databases);
    nlohmann::json out = nlohmann::json::array();
    const governance::Database* broken = nullptr;
    std::string problem;
    for (auto& db : ledgers) {
        auto result = governance::verify_chain(*db);
        // The dashboard's owner actions are chained on their own; both must hold.
        auto owner = governance::verify_owner_actions(*db);
        if (result.ok && !owner.ok) {
            result.ok = false;
            result.first_bad = owner.first_bad;
            result.problem = owner.problem;
        }
        out.push_back(
            {{"database", db->path().string()},
             {"ok", result.ok},
             {"records", result.records},
             {"first_bad", result.ok ? nlohmann::json() : nlohmann::json(result.first_bad)},
             {"problem", result.problem},
             {"owner_actions", owner.records}});
        if (!result.ok && broken == nullptr) {
            broken = db.get();
            problem = result.problem;
        }
        if (!flags.json && result.ok) {
            *ctx.out << fmt::format(
                "ok: {} records{}, every hash and link intact{}\n", result.records,
                owner.records > 0 ? fmt::format(" and {} owner actions", owner.records) : "",
                ledgers.size() > 1 ? " in " + db->path().string() : "");
        }
    }
    if (flags.json) {
        // One ledger: its object, as before; several: one object per ledger.
        *ctx.out << core::json_text(ledgers.size() == 1 ? out[0] : out) << "\n";
        return broken == nullptr ? 0 : 1;
    }
    if (broken != nullptr) {
        throw core::Error(core::ErrorKind::invalid_input,
                          fmt::format("audit trail{} broken at {}",
                                      ledgers.size() > 1 ? " of " + broken->path().string() : "",
                                      problem),
                          "records from this one on cannot be trusted; keep a copy of " +
                              broken->path().string() + " for investigation");
    }
    return 0;
}

int run_owner(core::Context& ctx, const AuditFlags& flags) {
    auto db = open_database(ctx, flags.settings);
    auto actions = governance::read_owner_actions(db, flags.lines);
    for (const auto& a : actions) {
        if (flags.json) {
            *ctx.out << core::json_text(nlohmann::json{{"seq", a.seq},
                                                       {"time", a.time},
                                                       {"action", a.action},
                                                       {"agent", a.agent},
                                                       {"detail", nlohmann::json::parse(a.detail)},
                                                       {"origin", a.origin},
                                                       {"hash", a.hash}})
                     << "\n";
        } else {
            *ctx.out << fmt::format("{:>6} {} {} agent={} {} from={} hash={}\n", a.seq, a.time,
                                    a.action, a.agent, a.detail, a.origin, a.hash.substr(0, 12));
        }
    }
    if (actions.empty() && !flags.json) {
        *ctx.err << "no owner actions: the dashboard has changed no agent (ui_admin = true "
                    "allows it)\n";
    }
    return 0;
}

int run_tail(core::Context& ctx, const AuditFlags& flags) {
    auto db = open_database(ctx, flags.settings);
    int64_t last = 0;
    for (const auto& stored : governance::read_records(db, flags.lines)) {
        *ctx.out << line_of(stored, flags.json);
        last = stored.seq;
    }
    ctx.out->flush();
    if (!flags.follow) {
        return 0;
    }
    // Follow until Ctrl-C: the signal ends the wait instead of killing the process mid-line.
    std::mutex mutex;
    std::condition_variable wake;
    bool stop = false;
    core::SignalWatcher signals([&](int) {
        std::lock_guard lock(mutex);
        stop = true;
        wake.notify_all();
    });
    std::unique_lock lock(mutex);
    while (!wake.wait_for(lock, std::chrono::milliseconds(flags.poll_ms), [&] { return stop; })) {
        for (const auto& stored : governance::records_after(db, last)) {
            *ctx.out << line_of(stored, flags.json);
            last = stored.seq;
        }
        ctx.out->flush();
    }
    return 0;
}
} // namespace

CommandSpec register_audit(CLI::App& root) {
    auto flags = std::make_shared<AuditFlags>();
    auto* app = root.add_subcommand("audit", "Check and read the tamper-evident request records");
    app->require_subcommand(1);
    flags->verify = app->add_subcommand(
        "verify", "Check every record's hash and link; name the first bad one (exit 1)");
    flags->tail = app->add_subcommand("tail", "Print the newest records");
    flags->tail->add_option("-n,--lines", flags->lines, "How many (default 20)")
        ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
    flags->tail->add_flag("-f,--follow", flags->follow, "Keep printing new records until Ctrl-C");
    flags->owner = app->add_subcommand(
        "owner", "Print what owners did from the dashboard (agents created, changed, revoked)");
    flags->owner->add_option("-n,--lines", flags->lines, "How many (default 20)")
        ->check(CLI::Range(int64_t{1}, int64_t{1'000'000}));
    for (auto* sub : {flags->verify, flags->tail, flags->owner}) {
        sub->add_flag("--json", flags->json, "Print JSON");
    }
    add_setting_flag(*flags->tail, flags->settings, "database");
    add_setting_flag(*flags->owner, flags->settings, "database");
    flags->verify
        ->add_option("--database", flags->databases,
                     "Ledger file to check; repeat for several instances' (default: the "
                     "database setting) [env AIMO_DATABASE]")
        ->type_name("PATH");
    return {app, [flags](core::Context& ctx) {
                if (flags->verify->parsed()) {
                    return run_verify(ctx, *flags);
                }
                return flags->owner->parsed() ? run_owner(ctx, *flags) : run_tail(ctx, *flags);
            }};
}

} // namespace aimo::commands
