#include "core/headers.hpp"
#include "core/text.hpp"
#include "governance/governor.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace aimo::governance {

namespace {
constexpr auto window = std::chrono::seconds(60);

long long seconds_until(LocalGovernor::Clock::time_point when,
                        LocalGovernor::Clock::time_point now) {
    return core::whole_seconds(std::chrono::duration_cast<std::chrono::milliseconds>(when - now));
}

} // namespace

LocalGovernor::LocalGovernor(Database& db, bool require_auth, std::chrono::milliseconds recheck)
    : m_db(db), m_require_auth(require_auth), m_recheck(recheck) {
    std::lock_guard lock(m_mutex);
    refresh(true);
}

void LocalGovernor::refresh(bool force) {
    // Asking SQLite costs file-lock syscalls; a request a few microseconds after the last
    // one does not need to ask again.
    auto now = Clock::now();
    if (!force && now - m_checked_at < m_recheck) {
        return;
    }
    m_checked_at = now;
    int64_t version = m_db.data_version();
    if (version == m_data_version) {
        return;
    }
    m_data_version = version;
    AgentStore store(m_db);
    auto agents = store.list();
    for (const auto& agent : agents) {
        m_usage[agent.name].spent_usd = agent.spent_usd;
    }
    m_agents.replace(std::move(agents));
}

bool LocalGovernor::auth_required() {
    std::lock_guard lock(m_mutex);
    refresh(false);
    return m_require_auth || !m_agents.empty();
}

void LocalGovernor::expire(Usage& usage, Clock::time_point now) {
    while (!usage.requests.empty() && usage.requests.front() + window <= now) {
        usage.requests.pop_front();
    }
    while (!usage.tokens.empty() && usage.tokens.front().first + window <= now) {
        usage.tokens_in_window -= usage.tokens.front().second;
        usage.tokens.pop_front();
    }
}

std::variant<Caller, Denial> LocalGovernor::authenticate(std::string_view authorization) {
    std::lock_guard lock(m_mutex);
    return m_agents.authenticate(authorization, m_require_auth,
                                 [this](bool force) { refresh(force); });
}

std::variant<const Agent*, Denial> LocalGovernor::find_caller(const Caller& caller) {
    return m_agents.find(caller, [this](bool force) { refresh(force); });
}

bool LocalGovernor::allows(const Caller& caller, std::string_view model) {
    std::lock_guard lock(m_mutex);
    auto who = find_caller(caller);
    auto* agent = std::get_if<const Agent*>(&who);
    return agent != nullptr && (*agent == nullptr || (*agent)->allows(model));
}

std::optional<Denial> LocalGovernor::limits(const Agent& agent, std::string_view model,
                                            Clock::time_point now, Headers& headers) {
    if (!agent.allows(model)) {
        return denials::model_not_allowed(agent, model);
    }
    auto& usage = m_usage[agent.name];
    expire(usage, now);
    if (auto rpm = agent.limits.rpm) {
        auto used = static_cast<int64_t>(usage.requests.size());
        if (used >= *rpm) {
            return denials::rpm_reached(agent.name, *rpm,
                                        seconds_until(usage.requests.front() + window, now));
        }
        auto reset =
            usage.requests.empty() ? 60 : seconds_until(usage.requests.front() + window, now);
        add_rate_headers(headers, "requests", *rpm, *rpm - used - 1, reset);
    }
    if (auto tpm = agent.limits.tpm) {
        if (usage.tokens_in_window >= *tpm) {
            return denials::tpm_reached(agent.name, *tpm, usage.tokens_in_window,
                                        seconds_until(usage.tokens.front().first + window, now));
        }
        auto reset =
            usage.tokens.empty() ? 60 : seconds_until(usage.tokens.front().first + window, now);
        add_rate_headers(headers, "tokens", *tpm, *tpm - usage.tokens_in_window, reset);
    }
    // Spent is spent: an upstream that overshot a reservation must not lead to more spending.
    if (auto budget = agent.limits.budget_usd; budget && usage.spent() >= *budget - 1e-12) {
        return denials::budget_spent(agent.name, usage.spent(), *budget);
    }
    return std::nullopt;
}

std::optional<Denial> LocalGovernor::precheck(const Caller& caller, std::string_view model,
                                              Clock::time_point now) {
    std::lock_guard lock(m_mutex);
    auto who = find_caller(caller);
    if (auto* denial = std::get_if<Denial>(&who)) {
        return std::move(*denial);
    }
    const Agent* agent = std::get<const Agent*>(who);
    Headers unused;
    return agent == nullptr ? std::nullopt : limits(*agent, model, now, unused);
}

std::variant<Admission, Denial> LocalGovernor::admit(const Caller& caller, std::string_view model,
                                                     const Estimate& estimate,
                                                     Clock::time_point now) {
    std::lock_guard lock(m_mutex);
    auto who = find_caller(caller);
    if (auto* denial = std::get_if<Denial>(&who)) {
        return std::move(*denial);
    }
    const Agent* found = std::get<const Agent*>(who);
    if (found == nullptr) {
        return Admission{};
    }
    const Agent& agent = *found;
    Admission admission;
    admission.agent = agent.name;
    if (auto denial = limits(agent, model, now, admission.headers)) {
        return std::move(*denial);
    }
    auto& usage = m_usage[agent.name];
    if (auto budget = agent.limits.budget_usd) {
        // Reserved under the lock, so concurrent requests cannot together pass the budget.
        double left = *budget - usage.spent() - usage.reserved_usd;
        auto hold = fit_budget(left, estimate);
        if (!hold) {
            return denials::budget_short(agent.name, left, *budget, usage.reserved_usd,
                                         static_cast<double>(estimate.prompt_tokens) *
                                             estimate.price_in / 1e6,
                                         estimate.completes && estimate.price_out > 0);
        }
        admission.budgeted = true;
        admission.reserved_usd = hold->reserved_usd;
        admission.max_tokens = hold->max_tokens;
        usage.reserved_usd += admission.reserved_usd;
    }
    usage.requests.push_back(now);
    return admission;
}

void LocalGovernor::settle(const Admission& admission, int64_t tokens, double cost_usd,
                           Clock::time_point now) {
    if (!admission.agent) {
        return;
    }
    std::lock_guard lock(m_mutex);
    auto& usage = m_usage[*admission.agent];
    usage.reserved_usd = std::max(0.0, usage.reserved_usd - admission.reserved_usd);
    usage.pending_usd += cost_usd;
    if (tokens > 0) {
        usage.tokens.emplace_back(now, tokens);
        usage.tokens_in_window += tokens;
    }
}

void LocalGovernor::committed(const std::optional<std::string>& agent, double cost_usd) {
    if (!agent) {
        return;
    }
    std::lock_guard lock(m_mutex);
    auto& usage = m_usage[*agent];
    usage.pending_usd = std::max(0.0, usage.pending_usd - cost_usd);
    usage.spent_usd += cost_usd;
}

} // namespace aimo::governance
