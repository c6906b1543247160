#pragma once

#include "core/error.hpp"
#include "governance/db.hpp"

#include <optional>
#include <string>
#include <vector>

namespace aimo::governance {

/// What an agent may do. Unset fields mean "no limit".
struct AgentLimits {
    std::optional<double> budget_usd;
    std::optional<int64_t> rpm;      ///< requests per minute
    std::optional<int64_t> tpm;      ///< tokens (prompt + completion) per minute
    std::vector<std::string> models; ///< allowed model names as clients send them; empty: any
    /// Its share of a busy provider against other agents waiting there (1 to 100): an agent
    /// of weight 3 gets three turns to another's one.
    int weight = 1;
};

/// A stored agent. Only a hash of its token is kept.
struct Agent {
    int64_t id = 0;
    std::string name;
    std::string token_hash;
    std::string token_hint; ///< the token's first characters, to tell tokens apart
    AgentLimits limits;
    std::string created_at;
    std::optional<std::string> revoked_at;
    double spent_usd = 0; ///< sum of the costs in the ledger

    bool revoked() const { return revoked_at.has_value(); }
    /// True when `model` is in the allow-list (or there is none).
    bool allows(std::string_view model) const;
};

/// A new random token: "aimo_" and 32 random bytes in base58.
std::string new_token();
/// The stored form of a token: its SHA-256, hex.
std::string hash_token(std::string_view token);

/// Where agents are kept: the SQLite database (AgentStore) or the shared state server
/// (state::SharedAgents). What `aimo agent` works on.
class AgentRegistry {
public:
    virtual ~AgentRegistry() = default;
    /// Creates an agent and returns its token, which is never stored and cannot be shown again.
    /// Throws core::Error: already_exists for a taken name, usage for a bad name or limit.
    virtual std::string create(const std::string& name, const AgentLimits& limits,
                               const std::string& now) = 0;
    /// Every agent, oldest first, with what each has spent.
    virtual std::vector<Agent> list() = 0;
    /// The agent called `name`, or nullopt.
    virtual std::optional<Agent> find(std::string_view name) = 0;
    /// The agent called `name`; throws core::Error(not_found) naming it.
    Agent get(const std::string& name);
    /// Replaces the limits of `name`. Throws core::Error(not_found).
    virtual void update(const std::string& name, const AgentLimits& limits) = 0;
    /// Marks `name` revoked from `now` on (its records stay). Throws core::Error(not_found).
    virtual void revoke(const std::string& name, const std::string& now) = 0;
    /// True when any agent, revoked or not, exists: then the proxy requires tokens.
    virtual bool any() = 0;
};

/// Agents in the database. Thread-compatible (one per thread, or externally locked).
class AgentStore : public AgentRegistry {
public:
    explicit AgentStore(Database& db) : m_db(db) {}

    std::string create(const std::string& name, const AgentLimits& limits,
                       const std::string& now) override;
    std::vector<Agent> list() override;
    std::optional<Agent> find(std::string_view name) override;
    void update(const std::string& name, const AgentLimits& limits) override;
    void revoke(const std::string& name, const std::string& now) override;
    bool any() override;

private:
    std::vector<Agent> query(std::string_view where, std::string_view value);
    Database& m_db;
};

/// Checks a name before it is stored: throws core::Error(usage) saying what a name may hold.
void validate_name(const std::string& name);
/// core::Error(not_found) for the agent `name`, with the hint to list them.
core::Error no_such_agent(const std::string& name);
/// Checks a limit before it is stored: throws core::Error(usage) naming the bad value.
void validate_limits(const AgentLimits& limits);

} // namespace aimo::governance
