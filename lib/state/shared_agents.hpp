#pragma once

#include "governance/agents.hpp"
#include "state/client.hpp"

#include <string>
#include <vector>

namespace aimo::state {

/// An agent as the state server keeps it: one JSON object per agent (spending apart, under
/// its own key).
std::string agent_json(const governance::Agent& agent);
/// The agent of agent_json(); throws core::Error(invalid_input) for anything else.
governance::Agent agent_from_json(const std::string& text);

/// Keys of one agent's counters.
struct AgentKeys {
    explicit AgentKeys(const std::string& name);
    std::string spent;        ///< USD spent, settled
    std::string holds;        ///< reservation → "USD expiry-ms"
    std::string requests;     ///< sorted set of requests started, scored by time
    std::string tokens;       ///< sorted set of "request:tokens" settled, scored by time
    std::string tokens_total; ///< the sum of `tokens`
};

/// Agents in the shared state server: every instance and every machine's `aimo agent` see
/// the same ones. Writes are atomic on the server (a name is taken once; an update does not
/// undo a concurrent revoke). Thread-safe.
class SharedAgents : public governance::AgentRegistry {
public:
    explicit SharedAgents(StateClient& client) : m_client(client) {}

    std::string create(const std::string& name, const governance::AgentLimits& limits,
                       const std::string& now) override;
    std::vector<governance::Agent> list() override;
    std::optional<governance::Agent> find(std::string_view name) override;
    void update(const std::string& name, const governance::AgentLimits& limits) override;
    void revoke(const std::string& name, const std::string& now) override;
    bool any() override;

    /// Adds `agent` (token hash and all) with `spent_usd` spent, unless its name is taken:
    /// true when added.
    bool import(const governance::Agent& agent);
    /// Changes whenever an agent is created, changed or revoked.
    std::string version();

private:
    /// Replaces `name` with what `change` makes of it, unless another writer got there first
    /// (then reads it again and retries).
    template <typename Change> void modify(const std::string& name, Change change);
    StateClient& m_client;
};

} // namespace aimo::state
