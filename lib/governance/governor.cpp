#include "governance/governor.hpp"

#include "core/headers.hpp"
#include "core/text.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>

namespace aimo::governance {

namespace {
constexpr auto window = std::chrono::seconds(60);

long long seconds_until(Governor::Clock::time_point when, Governor::Clock::time_point now) {
    return core::whole_seconds(std::chrono::duration_cast<std::chrono::milliseconds>(when - now));
}

std::string_view bearer_token(std::string_view header) {
    while (!header.empty() && header.front() == ' ') {
        header.remove_prefix(1);
    }
    if (header.size() < 7 || !core::iequals(header.substr(0, 7), "bearer ")) {
        return {};
    }
    header.remove_prefix(7);
    while (!header.empty() && (header.back() == ' ' || header.back() == '\r')) {
        header.remove_suffix(1);
    }
    return header;
}

// x-ratelimit-{limit,remaining,reset}-`kind`, as OpenAI sends them.
void add_rate_headers(Headers& headers, std::string_view kind, int64_t limit, int64_t remaining,
                      long long reset_s) {
    auto name = [&](std::string_view what) {
        std::string out = "x-ratelimit-";
        out.append(what).append(kind);
        return out;
    };
    headers.add(name("limit-"), std::to_string(limit));
    headers.add(name("remaining-"), std::to_string(remaining));
    headers.add(name("reset-"), std::to_string(reset_s) + 's');
}

Denial deny(int status, std::string code, std::string message,
            std::optional<std::string> agent = std::nullopt) {
    return {status, std::move(code), std::move(message), {}, std::move(agent)};
}

std::string usd(double amount) {
    return fmt::format("${:.6f}", amount);
}
} // namespace

Governor::Governor(Database& db, bool require_auth, std::chrono::milliseconds recheck)
    : m_db(db), m_require_auth(require_auth), m_recheck(recheck) {
    std::lock_guard lock(m_mutex);
    refresh(true);
}

void Governor::refresh(bool force) {
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
    m_any_agent = !agents.empty();
    m_by_hash.clear();
    m_by_name.clear();
    for (auto& agent : agents) {
        m_usage[agent.name].spent_usd = agent.spent_usd;
        std::string name = agent.name;
        auto& stored = m_by_name.emplace(std::move(name), std::move(agent)).first->second;
        m_by_hash.emplace(stored.token_hash, &stored);
    }
}

bool Governor::auth_required() {
    std::lock_guard lock(m_mutex);
    refresh(false);
    return m_require_auth || m_any_agent;
}

const std::string& Governor::token_hash(std::string_view token) {
    auto known = m_known_tokens.find(token);
    if (known != m_known_tokens.end()) {
        return known->second;
    }
    // Only a bounded number of distinct tokens is remembered: strangers cannot grow it forever.
    if (m_known_tokens.size() >= 1024) {
        m_known_tokens.clear();
    }
    return m_known_tokens.emplace(std::string(token), hash_token(token)).first->second;
}

void Governor::expire(Usage& usage, Clock::time_point now) {
    while (!usage.requests.empty() && usage.requests.front() + window <= now) {
        usage.requests.pop_front();
    }
    while (!usage.tokens.empty() && usage.tokens.front().first + window <= now) {
        usage.tokens_in_window -= usage.tokens.front().second;
        usage.tokens.pop_front();
    }
}

namespace {
// `agent`, unless its token was revoked.
std::variant<const Agent*, Denial> live(const Agent& agent) {
    if (agent.revoked()) {
        return deny(
            401, "revoked_api_key",
            fmt::format("the token of agent '{}' was revoked at {}", agent.name, *agent.revoked_at),
            agent.name);
    }
    return &agent;
}
} // namespace

std::variant<const Agent*, Denial> Governor::identify(std::string_view authorization) {
    refresh(false);
    if (!m_require_auth && !m_any_agent) {
        return static_cast<const Agent*>(nullptr);
    }
    auto token = bearer_token(authorization);
    if (token.empty()) {
        return deny(401, "missing_api_key",
                    "this aimo requires an agent token: send 'Authorization: Bearer <token>' "
                    "(the owner creates one with 'aimo agent create NAME')");
    }
    auto found = m_by_hash.find(token_hash(token));
    if (found == m_by_hash.end()) {
        refresh(true); // perhaps an agent created a moment ago
        found = m_by_hash.find(token_hash(token));
    }
    if (found == m_by_hash.end()) {
        return deny(401, "invalid_api_key",
                    "the token is not one of this aimo's agents (mistyped, or from another "
                    "machine); 'aimo agent list' shows the agents");
    }
    return live(*found->second);
}

std::variant<Caller, Denial> Governor::authenticate(std::string_view authorization) {
    std::lock_guard lock(m_mutex);
    auto who = identify(authorization);
    if (auto* denial = std::get_if<Denial>(&who)) {
        return std::move(*denial);
    }
    const Agent* agent = std::get<const Agent*>(who);
    if (agent == nullptr) {
        return Caller{};
    }
    return Caller{agent->name, agent->limits.weight};
}

std::variant<const Agent*, Denial> Governor::find_caller(const Caller& caller) {
    if (!caller.agent) {
        return static_cast<const Agent*>(nullptr);
    }
    refresh(false);
    auto found = m_by_name.find(*caller.agent);
    if (found == m_by_name.end()) {
        return deny(401, "invalid_api_key",
                    fmt::format("agent '{}' no longer exists", *caller.agent), caller.agent);
    }
    return live(found->second);
}

bool Governor::allows(const Caller& caller, std::string_view model) {
    std::lock_guard lock(m_mutex);
    auto who = find_caller(caller);
    auto* agent = std::get_if<const Agent*>(&who);
    return agent != nullptr && (*agent == nullptr || (*agent)->allows(model));
}

std::optional<Denial> Governor::limits(const Agent& agent, std::string_view model,
                                       Clock::time_point now, Headers& headers) {
    if (!agent.allows(model)) {
        return deny(403, "model_not_allowed",
                    fmt::format("agent '{}' may not use model '{}'; it may use: {}", agent.name,
                                model, fmt::join(agent.limits.models, ", ")),
                    agent.name);
    }
    auto& usage = m_usage[agent.name];
    expire(usage, now);
    if (auto rpm = agent.limits.rpm) {
        auto used = static_cast<int64_t>(usage.requests.size());
        if (used >= *rpm) {
            auto reset = seconds_until(usage.requests.front() + window, now);
            Denial denial =
                deny(429, "rate_limit_exceeded",
                     fmt::format("agent '{}' is over its limit of {} requests per minute; retry "
                                 "in {} s",
                                 agent.name, *rpm, reset),
                     agent.name);
            denial.headers = {{"Retry-After", std::to_string(reset)}};
            add_rate_headers(denial.headers, "requests", *rpm, 0, reset);
            return denial;
        }
        auto reset =
            usage.requests.empty() ? 60 : seconds_until(usage.requests.front() + window, now);
        add_rate_headers(headers, "requests", *rpm, *rpm - used - 1, reset);
    }
    if (auto tpm = agent.limits.tpm) {
        if (usage.tokens_in_window >= *tpm) {
            auto reset = seconds_until(usage.tokens.front().first + window, now);
            Denial denial =
                deny(429, "rate_limit_exceeded",
                     fmt::format("agent '{}' is over its limit of {} tokens per minute ({} used); "
                                 "retry in {} s",
                                 agent.name, *tpm, usage.tokens_in_window, reset),
                     agent.name);
            denial.headers = {{"Retry-After", std::to_string(reset)}};
            add_rate_headers(denial.headers, "tokens", *tpm, 0, reset);
            return denial;
        }
        auto reset =
            usage.tokens.empty() ? 60 : seconds_until(usage.tokens.front().first + window, now);
        add_rate_headers(headers, "tokens", *tpm, *tpm - usage.tokens_in_window, reset);
    }
    // Spent is spent: an upstream that overshot a reservation must not lead to more spending.
    if (auto budget = agent.limits.budget_usd; budget && usage.spent() >= *budget - 1e-12) {
        return deny(402, "budget_exceeded",
                    fmt::format("agent '{}' has spent {} of its {} budget", agent.name,
                                usd(usage.spent()), usd(*budget)),
                    agent.name);
    }
    return std::nullopt;
}

std::optional<Denial> Governor::precheck(const Caller& caller, std::string_view model,
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

std::variant<Admission, Denial> Governor::admit(const Caller& caller, std::string_view model,
                                                const Estimate& estimate, Clock::time_point now) {
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
    Admission admission{agent.name, false, 0, std::nullopt, {}};
    if (auto denial = limits(agent, model, now, admission.headers)) {
        return std::move(*denial);
    }
    auto& usage = m_usage[agent.name];
    if (auto budget = agent.limits.budget_usd) {
        // The worst case is reserved under the lock, so concurrent requests cannot together
        // pass the budget. A request whose worst case does not fit is not refused while the
        // remaining budget pays for its prompt and some completion: its completion limit is
        // lowered to what is left (and the client told), so it still cannot overspend.
        double left = *budget - usage.spent() - usage.reserved_usd;
        double prompt_usd = static_cast<double>(estimate.prompt_tokens) * estimate.price_in / 1e6;
        int64_t completion = estimate.completes
                                 ? estimate.completion_tokens.value_or(default_completion_reserve)
                                 : 0;
        if (estimate.completes && estimate.price_out > 0) {
            double affordable = std::floor((left - prompt_usd) * 1e6 / estimate.price_out + 1e-9);
            if (affordable < 1) {
                return deny(402, "budget_exceeded",
                            fmt::format("agent '{}' has {} of its {} budget left ({} held by "
                                        "requests in flight); this request's prompt may cost up "
                                        "to {}, leaving nothing for an answer",
                                        agent.name, usd(std::max(0.0, left)), usd(*budget),
                                        usd(usage.reserved_usd), usd(prompt_usd)),
                            agent.name);
            }
            if (static_cast<double>(completion) > affordable) {
                completion = static_cast<int64_t>(affordable);
                admission.max_tokens = completion;
            }
        } else if (prompt_usd > left + 1e-12) {
            return deny(402, "budget_exceeded",
                        fmt::format("agent '{}' has {} of its {} budget left ({} held by "
                                    "requests in flight); this request may cost up to {}",
                                    agent.name, usd(std::max(0.0, left)), usd(*budget),
                                    usd(usage.reserved_usd), usd(prompt_usd)),
                        agent.name);
        }
        admission.budgeted = true;
        admission.reserved_usd =
            prompt_usd + static_cast<double>(completion) * estimate.price_out / 1e6;
        usage.reserved_usd += admission.reserved_usd;
    }
    usage.requests.push_back(now);
    return admission;
}

void Governor::settle(const std::optional<std::string>& agent, double reserved_usd, int64_t tokens,
                      double cost_usd, Clock::time_point now) {
    if (!agent) {
        return;
    }
    std::lock_guard lock(m_mutex);
    auto& usage = m_usage[*agent];
    usage.reserved_usd = std::max(0.0, usage.reserved_usd - reserved_usd);
    usage.pending_usd += cost_usd;
    if (tokens > 0) {
        usage.tokens.emplace_back(now, tokens);
        usage.tokens_in_window += tokens;
    }
}

void Governor::committed(const std::optional<std::string>& agent, double cost_usd) {
    if (!agent) {
        return;
    }
    std::lock_guard lock(m_mutex);
    auto& usage = m_usage[*agent];
    usage.pending_usd = std::max(0.0, usage.pending_usd - cost_usd);
    usage.spent_usd += cost_usd;
}

} // namespace aimo::governance
