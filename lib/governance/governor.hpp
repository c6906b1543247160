#pragma once

#include "core/headers.hpp"
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

using core::Headers;

/// Why a request may not go ahead, as the client will see it.
struct Denial {
    int status = 401;
    std::string code;
    std::string message;
    Headers headers;                  ///< Retry-After and x-ratelimit-* where they apply
    std::optional<std::string> agent; ///< the agent, when the token was known
};

/// Who sent a request, once its token was checked.
struct Caller {
    std::optional<std::string> agent; ///< nullopt while no authentication is in force
    int weight = 1;                   ///< the agent's share of a busy provider
};

/// Completion tokens reserved for a request that sets no limit of its own.
inline constexpr int64_t default_completion_reserve = 4096;

/// What a request may cost at most, estimated before it is sent.
struct Estimate {
    int64_t prompt_tokens = 0;                ///< an upper bound (every body byte a token)
    std::optional<int64_t> completion_tokens; ///< the request's own limit, when it sets one
    bool completes = true; ///< false for embeddings, which produce no completion tokens
    double price_in = 0;   ///< USD per million prompt tokens
    double price_out = 0;  ///< USD per million completion tokens
};

/// A request let through: who sent it and what was set aside for it.
struct Admission {
    std::optional<std::string> agent; ///< nullopt when no authentication is in force
    bool budgeted = false;            ///< the agent has a budget: reserved_usd bounds the cost
    double reserved_usd = 0;
    /// The completion limit the remaining budget imposes, when the request asked for more (or
    /// set none): the request must be sent with it.
    std::optional<int64_t> max_tokens;
    Headers headers; ///< x-ratelimit-* to add to the response
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
    /// Checks `authorization` (the header's value): who is asking, or a denial (401) when
    /// authentication is in force and it does not name a live agent. Never any upstream work.
    std::variant<Caller, Denial> authenticate(std::string_view authorization);
    /// True when `caller` may use `model` (the agent's allow-list, if any).
    bool allows(const Caller& caller, std::string_view model);
    /// The refusals that need no price: a model not allowed (403), a rate limit reached (429),
    /// a budget already spent (402). Reserves nothing.
    std::optional<Denial> precheck(const Caller& caller, std::string_view model,
                                   Clock::time_point now);
    /// Every check again, then the budget: reserves the request's worst case, or caps its
    /// completion tokens to what the remaining budget covers (Admission::max_tokens), or
    /// refuses (402) when that is not even one token. Counts the request for RPM.
    std::variant<Admission, Denial> admit(const Caller& caller, std::string_view model,
                                          const Estimate& estimate, Clock::time_point now);
    /// Replaces the reservation with the real usage and cost as soon as the answer is done
    /// (the agent's next request sees it at once); counts tokens for TPM. The cost stays
    /// pending until committed(). `agent` and `reserved_usd` are the admission's.
    void settle(const std::optional<std::string>& agent, double reserved_usd, int64_t tokens,
                double cost_usd, Clock::time_point now);
    /// A settled cost is in the database now (or could not be stored: it was spent anyway).
    void committed(const std::optional<std::string>& agent, double cost_usd);

private:
    struct Usage {
        std::deque<Clock::time_point> requests;
        std::deque<std::pair<Clock::time_point, int64_t>> tokens;
        int64_t tokens_in_window = 0;
        double spent_usd = 0;    ///< committed, as the database says
        double pending_usd = 0;  ///< settled, not committed yet
        double reserved_usd = 0; ///< held by requests in flight
        double spent() const { return spent_usd + pending_usd; }
    };
    /// The agent `authorization` names (null when no authentication is in force), or why not.
    /// Called with the lock held.
    std::variant<const Agent*, Denial> identify(std::string_view authorization);
    /// The live agent `caller` names, or why it may not go on. Called with the lock held.
    std::variant<const Agent*, Denial> find_caller(const Caller& caller);
    /// Model and rate checks for `agent`; fills `headers` with x-ratelimit-*. Lock held.
    std::optional<Denial> limits(const Agent& agent, std::string_view model, Clock::time_point now,
                                 Headers& headers);
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
    std::map<std::string, Agent, std::less<>> m_by_name;
    std::map<std::string, const Agent*, std::less<>> m_by_hash;
    std::map<std::string, Usage, std::less<>> m_usage;              ///< by agent name
    std::map<std::string, std::string, std::less<>> m_known_tokens; ///< token → its hash
};

} // namespace aimo::governance
