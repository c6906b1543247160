#include "ui/dashboard.hpp"

#include "core/error.hpp"
#include "crypto/siwx.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>

namespace aimo::ui {

using governance::Statement;
using nlohmann::json;

namespace {
template <typename T> json or_null(const std::optional<T>& value) {
    return value ? json(*value) : json(nullptr);
}

// The ledger's time format ("2026-12-03T10:14:13.123Z") cut to `length` characters, for a time
// `back` before `now`.
std::string stamp(std::chrono::system_clock::time_point now, std::chrono::seconds back,
                  size_t length) {
    return crypto::format_timestamp(now - back).substr(0, length);
}
} // namespace

Dashboard::Dashboard(std::filesystem::path ledger, Agents agents)
    : m_path(std::move(ledger)), m_agents(std::move(agents)) {}

governance::Database* Dashboard::ledger() {
    if (!m_ledger && !m_path.empty()) {
        m_ledger = std::make_unique<governance::Database>(m_path);
    }
    return m_ledger.get();
}

std::string Dashboard::agents_json(std::chrono::system_clock::time_point now) {
    std::vector<governance::Agent> agents;
    // What each agent sent in the last minute, as its rate limits count it.
    std::map<std::string, std::pair<int64_t, int64_t>> minute;
    {
        std::lock_guard lock(m_mutex);
        if (m_agents) {
            agents = m_agents(ledger());
        }
        if (auto* db = ledger()) {
            Statement select(db->handle(),
                             "SELECT agent, COUNT(*), SUM(prompt_tokens + completion_tokens) "
                             "FROM requests WHERE time >= ? AND cache != 'embedding' "
                             "GROUP BY agent");
            select.bind(1, stamp(now, std::chrono::seconds(60), 24));
            while (select.step()) {
                minute[select.text(0)] = {select.integer(1), select.integer(2)};
            }
        }
    }
    json out = json::array();
    for (const auto& agent : agents) {
        auto used = minute[agent.name];
        out.push_back({{"name", agent.name},
                       {"state", agent.revoked() ? "revoked" : "active"},
                       {"spent_usd", agent.spent_usd},
                       {"budget_usd", or_null(agent.limits.budget_usd)},
                       {"rpm", or_null(agent.limits.rpm)},
                       {"tpm", or_null(agent.limits.tpm)},
                       {"weight", agent.limits.weight},
                       {"models", agent.limits.models},
                       {"last_minute", {{"requests", used.first}, {"tokens", used.second}}}});
    }
    return out.dump();
}

std::string Dashboard::requests_json(size_t count) {
    json out = json::array();
    std::lock_guard lock(m_mutex);
    auto* db = ledger();
    if (db == nullptr) {
        return out.dump();
    }
    Statement select(db->handle(), "SELECT time, agent, model, provider, status, prompt_tokens, "
                                   "completion_tokens, cost_usd, latency_us, cache FROM requests "
                                   "WHERE cache != 'embedding' ORDER BY seq DESC LIMIT ?");
    select.bind(1, static_cast<int64_t>(count));
    while (select.step()) {
        out.push_back({{"time", select.text(0)},
                       {"agent", select.text(1)},
                       {"model", select.text(2)},
                       {"provider", select.text(3)},
                       {"status", select.integer(4)},
                       {"prompt_tokens", select.integer(5)},
                       {"completion_tokens", select.integer(6)},
                       {"cost_usd", select.real(7)},
                       {"latency_ms", static_cast<double>(select.integer(8)) / 1000.0},
                       {"cache", select.text(9)}});
    }
    return out.dump();
}

std::string Dashboard::series_json(std::string_view range, std::string_view by,
                                   std::chrono::system_clock::time_point now) {
    if (range != "hour" && range != "month") {
        throw core::Error(core::ErrorKind::usage, fmt::format("unknown range '{}'", range),
                          "use range=hour or range=month");
    }
    if (by != "agent" && by != "model") {
        throw core::Error(core::ErrorKind::usage, fmt::format("unknown grouping '{}'", by),
                          "use by=agent or by=model");
    }
    bool hourly = range == "hour";
    size_t length = hourly ? 16 : 10; // "2026-12-03T10:14" or "2026-12-03"
    std::chrono::seconds step(hourly ? 60 : 86'400);
    int count = hourly ? 60 : 30;
    std::vector<std::string> buckets;
    std::map<std::string, size_t> index;
    for (int i = count - 1; i >= 0; --i) {
        index[stamp(now, step * i, length)] = buckets.size();
        buckets.push_back(stamp(now, step * i, length));
    }
    std::map<std::string, std::pair<std::vector<int64_t>, std::vector<double>>> series;
    int64_t hits = 0;
    int64_t lookups = 0;
    double saved = 0;
    {
        std::lock_guard lock(m_mutex);
        if (auto* db = ledger()) {
            Statement select(
                db->handle(),
                fmt::format("SELECT substr(time, 1, {}), {}, cache, COUNT(*), SUM(cost_usd), "
                            "SUM(saved_usd) FROM requests WHERE time >= ? GROUP BY 1, 2, 3",
                            length, by));
            select.bind(1, buckets.front());
            while (select.step()) {
                auto found = index.find(select.text(0));
                if (found == index.end()) {
                    continue;
                }
                auto& [requests, cost] = series[select.text(1)];
                requests.resize(buckets.size());
                cost.resize(buckets.size());
                std::string cache = select.text(2);
                int64_t n = select.integer(3);
                // The cache's own embedding calls cost money but are not requests.
                requests[found->second] += cache == "embedding" ? 0 : n;
                cost[found->second] += select.real(4);
                bool hit = cache == "hit" || cache == "hit-semantic";
                hits += hit ? n : 0;
                lookups += hit || cache == "miss" ? n : 0;
                saved += select.real(5);
            }
        }
    }
    json lines = json::array();
    for (const auto& [key, values] : series) {
        lines.push_back({{"key", key}, {"requests", values.first}, {"cost_usd", values.second}});
    }
    return json{{"range", range},
                {"by", by},
                {"buckets", buckets},
                {"series", lines},
                {"cache", {{"hits", hits}, {"lookups", lookups}, {"saved_usd", saved}}}}
        .dump();
}

std::map<std::string, ProviderHour>
Dashboard::provider_hour(std::chrono::system_clock::time_point now) {
    std::map<std::string, std::vector<int64_t>> latencies;
    std::map<std::string, ProviderHour> out;
    std::lock_guard lock(m_mutex);
    auto* db = ledger();
    if (db == nullptr) {
        return out;
    }
    Statement select(db->handle(), "SELECT provider, status, latency_us FROM requests WHERE "
                                   "time >= ? AND cache NOT IN ('embedding', 'hit', "
                                   "'hit-semantic') AND provider != ''");
    select.bind(1, stamp(now, std::chrono::seconds(3600), 24));
    while (select.step()) {
        auto& hour = out[select.text(0)];
        ++hour.requests;
        hour.errors += select.integer(1) >= 500 || select.integer(1) == 0 ? 1 : 0;
        latencies[select.text(0)].push_back(select.integer(2));
    }
    for (auto& [provider, values] : latencies) {
        std::sort(values.begin(), values.end());
        auto at = [&](double share) {
            return static_cast<double>(values[static_cast<size_t>(share * (values.size() - 1))]) /
                   1000.0;
        };
        out[provider].p50_ms = at(0.5);
        out[provider].p95_ms = at(0.95);
    }
    return out;
}

std::string Dashboard::balance_json(std::chrono::system_clock::time_point now) {
    std::lock_guard lock(m_balance_mutex);
    if (!m_balance) {
        return json{{"balance", nullptr},
                    {"error", "no AiMo router is configured"},
                    {"checked_at", nullptr}}
            .dump();
    }
    if (m_balance_answer.empty() || now - m_balance_checked >= std::chrono::seconds(30)) {
        json answer = {{"balance", nullptr},
                       {"error", nullptr},
                       {"checked_at", crypto::format_timestamp(now)}};
        try {
            answer["balance"] = m_balance();
        } catch (const core::Error& e) {
            answer["error"] = e.what();
        }
        m_balance_answer = answer.dump();
        m_balance_checked = now;
    }
    return m_balance_answer;
}

} // namespace aimo::ui
