#pragma once

#include "governance/agents.hpp"
#include "governance/ledger.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace aimo::governance {

using Headers = std::vector<std::pair<std::string, std::string>>;

/// Why a request may not go ahead, as the client will see it.
struct Denial {
    int status = 401;
    std::string code;
    std::string message;
    Headers headers;         ///< Retry-After and x-ratelimit-* where they apply
    std::string agent = "-"; ///< the agent, when the token was known
};

/// A request let through: who sent it and what was set aside for it.
struct Admission {
    std::string agent; ///< "-" when no authentication is in force
    double reserved_usd = 0;
    Headers headers; ///< x-ratelimit-* to add to the response
};

/// What a request may cost at most, estimated before it is sent.
struct WorstCase {
    int64_t tokens = 0;
    double usd = 0;
};

/// Checks every forwarded request against its agent's token, model list, rate limits and
/// budget, and settles it afterwards. Budgets hold across concurrency: the worst case is
/// reserved before forwarding and replaced by the real cost once known. Agents created, changed
/// or revoked by another process (`aimo agent …`) apply to the next request. Thread-safe.
class Governor {
public:
    using Clock = std::chrono::steady_clock;
    /// `require_auth`: demand tokens even while no agent exists. Changes made by other
    /// processes are looked for at most every `recheck` (and at once for an unknown token), so
    /// a revocation or a new limit applies within that time.
    Governor(Database& db, bool require_auth,
             std::chrono::milliseconds recheck = std::chrono::milliseconds(100));

    /// True when requests must carry an agent's token.
    bool auth_required();
    /// Checks `authorization` (the header's value) alone: a denial (401) when authentication
    /// is in force and it does not name a live agent.
    std::optional<Denial> authenticate(std::string_view authorization);
    /// Checks `authorization` (the header's value) and the limits for `model`.
    std::variant<Admission, Denial> admit(std::string_view authorization, std::string_view model,
                                          const WorstCase& worst, Clock::time_point now);
    /// Replaces the reservation with the real usage and cost; counts tokens for TPM.
    /// `agent` and `reserved_usd` are the admission's.
    void settle(std::string_view agent, double reserved_usd, int64_t tokens, double cost_usd,
                Clock::time_point now);

private:
    struct Usage {
        std::deque<Clock::time_point> requests;
        std::deque<std::pair<Clock::time_point, int64_t>> tokens;
        int64_t tokens_in_window = 0;
        double spent_usd = 0;
        double reserved_usd = 0;
    };
    /// The agent `authorization` names (null when no authentication is in force), or why not.
    /// Called with the lock held.
    std::variant<const Agent*, Denial> identify(std::string_view authorization);
    /// Reloads agents when another connection committed; `force` skips the recheck interval.
    void refresh(bool force);
    static void expire(Usage& usage, Clock::time_point now);
    /// hash_token(token), remembered: SHA-256 is the dearest step of a governed request.
    const std::string& token_hash(std::string_view token);

    Database& m_db;
    bool m_require_auth;
    std::mutex m_mutex;
    int64_t m_data_version = -1;
    std::chrono::milliseconds m_recheck;
    Clock::time_point m_checked_at{};
    bool m_any_agent = false;
    std::map<std::string, Agent, std::less<>> m_by_hash;
    std::map<std::string, Usage, std::less<>> m_usage;              ///< by agent name
    std::map<std::string, std::string, std::less<>> m_known_tokens; ///< token → its hash
};

} // namespace aimo::governance
