#pragma once

#include "core/context.hpp"
#include "governance/agents.hpp"
#include "governance/db.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace aimo::ui {

/// A new owner secret and its hash (only the hash is ever stored).
struct OwnerSecret {
    std::string secret;
    std::string hash;
};

/// Makes a new owner secret: "aimo_owner_" and 32 random bytes in base58.
OwnerSecret make_owner_secret();
/// The owner secret's hash kept in `file`, or nullopt when there is none. Throws core::Error:
/// io when it cannot be read, invalid_input when it does not hold a hash.
std::optional<std::string> load_owner_secret(const std::filesystem::path& file);
/// Writes `hash` to `file` atomically with mode 0600. Throws core::Error(io).
void save_owner_secret(const std::filesystem::path& file, const std::string& hash);

/// What an owner asks of an agent's limits: each field present replaces the agent's (an
/// inner nullopt removes that limit).
struct AgentPatch {
    std::optional<std::optional<double>> budget_usd;
    std::optional<std::optional<int64_t>> rpm;
    std::optional<std::optional<int64_t>> tpm;
    std::optional<std::vector<std::string>> models; ///< empty: any model
    std::optional<int> weight;

    /// `limits` with this patch applied.
    governance::AgentLimits applied_to(governance::AgentLimits limits) const;
    /// The fields present, as JSON text, for the audit trail.
    std::string describe() const;
};

/// Parses a JSON object of `budget_usd`, `rpm`, `tpm` (numbers, or null for no limit),
/// `models` (an array of strings) and `weight` (1-100), plus `name` when `name` is non-null.
/// Throws core::Error(usage) naming the first field that is wrong.
AgentPatch parse_agent_patch(std::string_view body, std::string* name);

/// The dashboard's owner actions: creating and revoking agents and changing their limits,
/// each checked as `aimo agent` checks it and recorded in the database's owner_actions trail.
/// Only a caller holding the owner secret may act. Thread-safe.
class OwnerDesk {
public:
    /// Where the agents live, given the desk's own connection to the database.
    using Registry =
        std::function<std::unique_ptr<governance::AgentRegistry>(governance::Database&)>;

    OwnerDesk(std::filesystem::path database, Registry registry, std::string secret_hash,
              core::Clock clock);

    /// True when `presented` is the owner secret (compared in constant time).
    bool accepts(std::string_view presented) const;

    /// Creates `name` and returns its token (shown once). Throws core::Error as
    /// AgentRegistry::create does, or io when the record cannot be written.
    std::string create(const std::string& name, const AgentPatch& patch, const std::string& origin);
    /// Changes the limits of `name`. Throws core::Error(not_found), usage, io.
    void update(const std::string& name, const AgentPatch& patch, const std::string& origin);
    /// Revokes `name`. Throws core::Error(not_found), io.
    void revoke(const std::string& name, const std::string& origin);

private:
    void record(const std::string& action, const std::string& agent, const std::string& detail,
                const std::string& origin, const std::string& now);

    std::string m_secret_hash;
    core::Clock m_clock;
    std::mutex m_mutex;
    governance::Database m_db;
    std::unique_ptr<governance::AgentRegistry> m_registry;
};

} // namespace aimo::ui
