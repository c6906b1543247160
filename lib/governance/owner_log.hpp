#pragma once

#include "governance/db.hpp"
#include "governance/ledger.hpp"

#include <string>
#include <vector>

namespace aimo::governance {

/// One thing an owner did to the agents from the dashboard, as recorded.
struct OwnerAction {
    int64_t seq = 0;
    std::string time;   ///< UTC, RFC 3339
    std::string action; ///< "create", "update" or "revoke"
    std::string agent;
    std::string detail; ///< the limits asked for, as JSON ("{}" for a revoke); never a token
    std::string origin; ///< where the action came from: the client's address
    std::string prev_hash;
    std::string hash;
};

/// Appends `action` (its seq and hashes are filled in here), chained to the last one, in one
/// transaction. Throws core::Error(io) when it cannot be stored.
OwnerAction record_owner_action(Database& db, OwnerAction action);

/// The last `count` owner actions, oldest first.
std::vector<OwnerAction> read_owner_actions(Database& db, int64_t count);

/// Checks the owner actions' chain as verify_chain checks the requests': an edited, removed or
/// reordered action makes it fail, naming the first bad one. `records` counts the actions.
AuditResult verify_owner_actions(Database& db);

} // namespace aimo::governance
