#include "governance/agents.hpp"

#include "core/error.hpp"
#include "core/text.hpp"
#include "crypto/encoding.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <sodium.h>

namespace aimo::governance {

using core::Error;
using core::ErrorKind;

bool Agent::allows(std::string_view model) const {
    return limits.models.empty() ||
           std::find(limits.models.begin(), limits.models.end(), model) != limits.models.end();
}

std::string new_token() {
    unsigned char bytes[32];
    randombytes_buf(bytes, sizeof bytes);
    return "aimo_" + crypto::base58_encode(std::string_view(reinterpret_cast<char*>(bytes), 32));
}

std::string hash_token(std::string_view token) {
    return crypto::sha256_hex(token);
}

void validate_limits(const AgentLimits& limits) {
    if (limits.budget_usd && (!std::isfinite(*limits.budget_usd) || *limits.budget_usd < 0)) {
        throw Error(ErrorKind::usage,
                    fmt::format("budget {} is not a sum of USD", *limits.budget_usd),
                    "use e.g. --budget 5 or --budget 0.50");
    }
    for (const auto& [value, flag] : {std::pair{limits.rpm, "--rpm"}, {limits.tpm, "--tpm"}}) {
        if (value && *value <= 0) {
            throw Error(ErrorKind::usage, fmt::format("{} must be a positive number", flag),
                        fmt::format("use e.g. {} 60, or leave it out for no limit", flag));
        }
    }
    if (limits.weight < 1 || limits.weight > 100) {
        throw Error(ErrorKind::usage,
                    fmt::format("--weight {} is not a whole number from 1 to 100", limits.weight),
                    "use e.g. --weight 3 for three turns to a weight-1 agent's one");
    }
}

void validate_name(const std::string& name) {
    if (name.size() > 64 || !core::is_simple_name(name)) {
        throw Error(ErrorKind::usage, fmt::format("agent name '{}' is not valid", name),
                    "use up to 64 letters, digits, '-', '_' or '.'");
    }
}

Error no_such_agent(const std::string& name) {
    return Error(ErrorKind::not_found, fmt::format("there is no agent '{}'", name),
                 "'aimo agent list' shows the agents");
}

namespace {
std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += out.empty() ? "" : ",";
        out += item;
    }
    return out;
}

} // namespace

std::string AgentStore::create(const std::string& name, const AgentLimits& limits,
                               const std::string& now) {
    validate_name(name);
    validate_limits(limits);
    Transaction transaction(m_db);
    if (find(name)) {
        throw Error(ErrorKind::already_exists, fmt::format("agent '{}' already exists", name),
                    "pick another name, or 'aimo agent update " + name + "' to change its limits");
    }
    auto token = new_token();
    Statement insert(m_db.handle(),
                     "INSERT INTO agents (name, token_hash, token_hint, budget_usd, rpm, tpm, "
                     "models, created_at, weight) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, name)
        .bind(2, hash_token(token))
        .bind(3, token.substr(0, 9))
        .bind(4, limits.budget_usd)
        .bind(5, limits.rpm)
        .bind(6, limits.tpm)
        .bind(7, join(limits.models))
        .bind(8, now)
        .bind(9, static_cast<int64_t>(limits.weight));
    insert.run();
    transaction.commit();
    return token;
}

std::vector<Agent> AgentStore::query(std::string_view where, std::string_view value) {
    Statement select(m_db.handle(),
                     fmt::format("SELECT a.id, a.name, a.token_hash, a.token_hint, a.budget_usd, "
                                 "a.rpm, a.tpm, a.models, a.created_at, a.revoked_at, "
                                 "a.spent_usd, a.weight FROM agents a {} ORDER BY a.id",
                                 where));
    if (!where.empty()) {
        select.bind(1, value);
    }
    std::vector<Agent> agents;
    while (select.step()) {
        Agent agent;
        agent.id = select.integer(0);
        agent.name = select.text(1);
        agent.token_hash = select.text(2);
        agent.token_hint = select.text(3);
        if (!select.is_null(4)) {
            agent.limits.budget_usd = select.real(4);
        }
        if (!select.is_null(5)) {
            agent.limits.rpm = select.integer(5);
        }
        if (!select.is_null(6)) {
            agent.limits.tpm = select.integer(6);
        }
        agent.limits.models = core::split_list(select.text(7), ',');
        agent.created_at = select.text(8);
        if (!select.is_null(9)) {
            agent.revoked_at = select.text(9);
        }
        agent.spent_usd = select.real(10);
        agent.limits.weight = static_cast<int>(select.integer(11));
        agents.push_back(std::move(agent));
    }
    return agents;
}

std::vector<Agent> AgentStore::list() {
    return query("", "");
}

std::optional<Agent> AgentStore::find(std::string_view name) {
    auto found = query("WHERE a.name = ?", name);
    return found.empty() ? std::nullopt : std::optional(std::move(found.front()));
}

Agent AgentRegistry::get(const std::string& name) {
    auto agent = find(name);
    if (!agent) {
        throw no_such_agent(name);
    }
    return std::move(*agent);
}

void AgentStore::update(const std::string& name, const AgentLimits& limits) {
    validate_limits(limits);
    Statement update(m_db.handle(),
                     "UPDATE agents SET budget_usd = ?, rpm = ?, tpm = ?, models = ?, weight = ? "
                     "WHERE name = ?");
    update.bind(1, limits.budget_usd)
        .bind(2, limits.rpm)
        .bind(3, limits.tpm)
        .bind(4, join(limits.models))
        .bind(5, static_cast<int64_t>(limits.weight))
        .bind(6, name);
    update.run();
    if (m_db.changes() == 0) {
        throw no_such_agent(name);
    }
}

void AgentStore::revoke(const std::string& name, const std::string& now) {
    auto agent = find(name);
    if (!agent) {
        throw no_such_agent(name);
    }
    if (agent->revoked()) {
        return;
    }
    Statement revoke(m_db.handle(), "UPDATE agents SET revoked_at = ? WHERE name = ?");
    revoke.bind(1, now).bind(2, name);
    revoke.run();
}

bool AgentStore::any() {
    Statement count(m_db.handle(), "SELECT EXISTS (SELECT 1 FROM agents)");
    count.step();
    return count.integer(0) != 0;
}

} // namespace aimo::governance
