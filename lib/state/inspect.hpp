#pragma once

#include "governance/agents.hpp"
#include "state/client.hpp"
#include "state/shared_agents.hpp"

#include <optional>
#include <string>
#include <vector>

namespace aimo::state {

/// What the state server says about itself and the aimo state it holds.
struct StateStatus {
    std::string address;        ///< its address, without a password
    std::string server_version; ///< redis_version from INFO
    std::string schema;         ///< aimo's schema version there; empty before anything is stored
    std::optional<bool> appendonly; ///< nullopt when the server does not say (CONFIG disabled)
    std::string save;               ///< its RDB snapshot rule ("" when none)
    int64_t agents = 0;
};

/// Asks the server. Throws core::Error when it cannot be reached.
StateStatus inspect(StateClient& client);

/// What `aimo state import` did, by agent name.
struct ImportResult {
    std::vector<std::string> added;
    std::vector<std::string> skipped; ///< a shared agent of that name exists: left as it is
};

/// Copies every agent of `from` (token hash, limits, revocation and spending) into the shared
/// state, oldest first, leaving alone the names it already holds: running it again adds nothing.
ImportResult import_agents(governance::AgentRegistry& from, SharedAgents& to);

} // namespace aimo::state
