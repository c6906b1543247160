#pragma once

#include "governance/agents.hpp"
#include "governance/db.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace aimo::ui {

/// How one provider's forwarded requests went over the last hour.
struct ProviderHour {
    int64_t requests = 0;
    int64_t errors = 0; ///< answered 500 and above, or not at all
    double p50_ms = 0;
    double p95_ms = 0;
};

/// The data behind the dashboard, as JSON a script can read too: the agents with their
/// spending, the last requests and spending over time, read from the ledger and the agents
/// when asked (never on a request's path). Nothing `aimo stats` / `aimo agent list` would not
/// show: no token, no prompt or completion text. Thread-safe.
class Dashboard {
public:
    /// Lists the agents with what each spent, given the dashboard's own connection to the
    /// database (null without one).
    using Agents = std::function<std::vector<governance::Agent>(governance::Database*)>;
    /// `ledger`: the proxy's database file (empty: none, and the ledger's parts are empty).
    /// `agents`: null: no agents.
    Dashboard(std::filesystem::path ledger, Agents agents);

    /// [{name, state, spent_usd, budget_usd, rpm, tpm, weight, models, last_minute: {requests,
    /// tokens}}], oldest agent first.
    std::string agents_json(std::chrono::system_clock::time_point now);
    /// The newest `count` requests, newest first: [{time, agent, model, provider, status,
    /// prompt_tokens, completion_tokens, cost_usd, latency_ms, cache}].
    std::string requests_json(size_t count);
    /// Requests and spending over `range` ("hour": the last 60 minutes by minute; "month": the
    /// last 30 days by day) grouped `by` "agent" or "model", every bucket present:
    /// {range, by, buckets: [labels], series: [{key, requests: [...], cost_usd: [...]}],
    /// cache: {hits, lookups, saved_usd}}. Throws core::Error(usage) for another range or by.
    std::string series_json(std::string_view range, std::string_view by,
                            std::chrono::system_clock::time_point now);

    /// Each provider's last hour, by name (providers without requests are absent).
    std::map<std::string, ProviderHour> provider_hour(std::chrono::system_clock::time_point now);

    /// Asks the router for the wallet's balance, e.g. "12.50 USD"; throws core::Error.
    using Balance = std::function<std::string()>;
    /// Where balance_json asks (set before serving; unset: no router, no balance).
    void set_balance(Balance balance) { m_balance = std::move(balance); }
    /// {balance: "12.50 USD" | null, error: text | null, checked_at}: the router's answer, asked
    /// at most once every 30 s (a page polling cannot turn into traffic to the router).
    std::string balance_json(std::chrono::system_clock::time_point now);

private:
    /// Its own connection to the ledger, opened on first use; null without one. Lock held.
    governance::Database* ledger();

    std::filesystem::path m_path;
    Agents m_agents;
    std::mutex m_mutex;
    std::unique_ptr<governance::Database> m_ledger;
    Balance m_balance;
    std::mutex m_balance_mutex; ///< apart: a slow router must not hold up the ledger's readers
    std::chrono::system_clock::time_point m_balance_checked;
    std::string m_balance_answer;
};

} // namespace aimo::ui
