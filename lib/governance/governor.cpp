// What both governors share: reading the token, the rate-limit headers, the wording of every
// refusal and the arithmetic of fitting a request into what is left of a budget.
#include "governance/governor.hpp"

#include "core/text.hpp"

#include <cmath>
#include <fmt/format.h>

namespace aimo::governance {

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

void AgentIndex::replace(std::vector<Agent> agents) {
    m_by_hash.clear();
    m_by_name.clear();
    for (auto& agent : agents) {
        std::string name = agent.name;
        auto& stored = m_by_name.emplace(std::move(name), std::move(agent)).first->second;
        m_by_hash.emplace(stored.token_hash, &stored);
    }
}

const Agent* AgentIndex::by_token(std::string_view token) {
    auto known = m_token_hashes.find(token);
    if (known == m_token_hashes.end()) {
        // Only a bounded number of distinct tokens is remembered: strangers cannot grow it.
        if (m_token_hashes.size() >= 1024) {
            m_token_hashes.clear();
        }
        known = m_token_hashes.emplace(std::string(token), hash_token(token)).first;
    }
    auto found = m_by_hash.find(known->second);
    return found == m_by_hash.end() ? nullptr : found->second;
}

namespace {
// `agent`, unless its token was revoked.
std::variant<const Agent*, Denial> live(const Agent& agent) {
    if (agent.revoked()) {
        return denials::revoked(agent.name, *agent.revoked_at);
    }
    return &agent;
}
} // namespace

std::variant<const Agent*, Denial> AgentIndex::identify(std::string_view authorization,
                                                        bool require_auth, const Refresh& refresh) {
    refresh(false);
    auto token = bearer_token(authorization);
    if (!require_auth && empty() && !token.empty()) {
        refresh(true); // a token while no agent is known: perhaps the first was just created
    }
    if (!require_auth && empty()) {
        return static_cast<const Agent*>(nullptr);
    }
    if (token.empty()) {
        return denials::missing_token();
    }
    const Agent* agent = by_token(token);
    if (agent == nullptr) {
        refresh(true); // perhaps an agent created a moment ago, on any machine
        agent = by_token(token);
    }
    if (agent == nullptr) {
        return denials::unknown_token();
    }
    return live(*agent);
}

std::variant<Caller, Denial> AgentIndex::authenticate(std::string_view authorization,
                                                      bool require_auth, const Refresh& refresh) {
    auto who = identify(authorization, require_auth, refresh);
    if (auto* denial = std::get_if<Denial>(&who)) {
        return std::move(*denial);
    }
    const Agent* agent = std::get<const Agent*>(who);
    if (agent == nullptr) {
        return Caller{};
    }
    return Caller{agent->name, agent->limits.weight};
}

std::variant<const Agent*, Denial> AgentIndex::find(const Caller& caller, const Refresh& refresh) {
    if (!caller.agent) {
        return static_cast<const Agent*>(nullptr);
    }
    refresh(false);
    auto found = m_by_name.find(*caller.agent);
    if (found == m_by_name.end()) {
        return denials::no_longer_exists(*caller.agent);
    }
    return live(found->second);
}

namespace denials {
namespace {
Denial deny(int status, std::string code, std::string message,
            std::optional<std::string> agent = std::nullopt) {
    return {status, std::move(code), std::move(message), {}, std::move(agent)};
}

std::string usd(double amount) {
    return fmt::format("${:.6f}", amount);
}

Denial rate_limited(const std::string& agent, std::string message, std::string_view kind,
                    int64_t limit, long long reset_s) {
    Denial denial = deny(429, "rate_limit_exceeded", std::move(message), agent);
    denial.headers = {{"Retry-After", std::to_string(reset_s)}};
    add_rate_headers(denial.headers, kind, limit, 0, reset_s);
    return denial;
}
} // namespace

Denial missing_token() {
    return deny(401, "missing_api_key",
                "this aimo requires an agent token: send 'Authorization: Bearer <token>' "
                "(the owner creates one with 'aimo agent create NAME')");
}

Denial unknown_token() {
    return deny(401, "invalid_api_key",
                "the token is not one of this aimo's agents (mistyped, or from another "
                "machine); 'aimo agent list' shows the agents");
}

Denial no_longer_exists(const std::string& agent) {
    return deny(401, "invalid_api_key", fmt::format("agent '{}' no longer exists", agent), agent);
}

Denial revoked(const std::string& agent, const std::string& revoked_at) {
    return deny(401, "revoked_api_key",
                fmt::format("the token of agent '{}' was revoked at {}", agent, revoked_at), agent);
}

Denial model_not_allowed(const Agent& agent, std::string_view model) {
    return deny(403, "model_not_allowed",
                fmt::format("agent '{}' may not use model '{}'; it may use: {}", agent.name, model,
                            fmt::join(agent.limits.models, ", ")),
                agent.name);
}

Denial rpm_reached(const std::string& agent, int64_t rpm, long long reset_s) {
    return rate_limited(agent,
                        fmt::format("agent '{}' is over its limit of {} requests per minute; "
                                    "retry in {} s",
                                    agent, rpm, reset_s),
                        "requests", rpm, reset_s);
}

Denial tpm_reached(const std::string& agent, int64_t tpm, int64_t used, long long reset_s) {
    return rate_limited(agent,
                        fmt::format("agent '{}' is over its limit of {} tokens per minute ({} "
                                    "used); retry in {} s",
                                    agent, tpm, used, reset_s),
                        "tokens", tpm, reset_s);
}

Denial budget_spent(const std::string& agent, double spent, double budget) {
    return deny(
        402, "budget_exceeded",
        fmt::format("agent '{}' has spent {} of its {} budget", agent, usd(spent), usd(budget)),
        agent);
}

Denial budget_short(const std::string& agent, double left, double budget, double held,
                    double prompt_usd, bool completes) {
    return deny(402, "budget_exceeded",
                fmt::format("agent '{}' has {} of its {} budget left ({} held by requests in "
                            "flight); this request{} may cost up to {}{}",
                            agent, usd(std::max(0.0, left)), usd(budget), usd(held),
                            completes ? "'s prompt" : "", usd(prompt_usd),
                            completes ? ", leaving nothing for an answer" : ""),
                agent);
}
} // namespace denials

std::optional<BudgetHold> fit_budget(double left, const Estimate& estimate) {
    // A request whose worst case does not fit is not refused while the remaining budget pays
    // for its prompt and some completion: its completion limit is lowered to what is left (and
    // the client told), so it still cannot overspend.
    BudgetHold hold;
    double prompt_usd = static_cast<double>(estimate.prompt_tokens) * estimate.price_in / 1e6;
    int64_t completion =
        estimate.completes ? estimate.completion_tokens.value_or(default_completion_reserve) : 0;
    if (estimate.completes && estimate.price_out > 0) {
        double affordable = std::floor((left - prompt_usd) * 1e6 / estimate.price_out + 1e-9);
        if (affordable < 1) {
            return std::nullopt;
        }
        if (static_cast<double>(completion) > affordable) {
            completion = static_cast<int64_t>(affordable);
            hold.max_tokens = completion;
        }
    } else if (prompt_usd > left + 1e-12) {
        return std::nullopt;
    }
    hold.reserved_usd = prompt_usd + static_cast<double>(completion) * estimate.price_out / 1e6;
    return hold;
}

} // namespace aimo::governance
