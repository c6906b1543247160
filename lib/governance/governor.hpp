#pragma once

#include "core/headers.hpp"
#include "governance/agents.hpp"
#include "governance/ledger.hpp"

#include <chrono>
#include <deque>
#include <functional>
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
    /// The shared state's name for the hold and the request (empty for a local governor): a
    /// settlement sent twice counts once.
    std::string reservation;
};

/// Checks every forwarded request against its agent's token, model list, rate limits and
/// budget, and settles it afterwards. Budgets hold across concurrency: the worst case is
/// reserved before forwarding and replaced by the real cost once known. Agents created, changed
/// or revoked elsewhere (`aimo agent …`) apply to the next request. Two kinds: LocalGovernor
/// (this process, agents in SQLite) and state::SharedGovernor (every instance sharing one
/// Redis). Thread-safe.
class Governor {
public:
    using Clock = std::chrono::steady_clock;
    virtual ~Governor() = default;

    /// True when requests must carry an agent's token.
    virtual bool auth_required() = 0;
    /// Checks `authorization` (the header's value): who is asking, or a denial (401) when
    /// authentication is in force and it does not name a live agent. Never any upstream work.
    virtual std::variant<Caller, Denial> authenticate(std::string_view authorization) = 0;
    /// True when `caller` may use `model` (the agent's allow-list, if any).
    virtual bool allows(const Caller& caller, std::string_view model) = 0;
    /// Refusals that need no price, as far as this governor can tell without a round trip:
    /// a model not allowed (403), and for the local one a rate limit reached (429) or a budget
    /// already spent (402). Reserves nothing; admit() checks everything again.
    virtual std::optional<Denial> precheck(const Caller& caller, std::string_view model,
                                           Clock::time_point now) = 0;
    /// Every check, then the budget: reserves the request's worst case, or caps its
    /// completion tokens to what the remaining budget covers (Admission::max_tokens), or
    /// refuses (402) when that is not even one token. Counts the request for RPM.
    virtual std::variant<Admission, Denial> admit(const Caller& caller, std::string_view model,
                                                  const Estimate& estimate,
                                                  Clock::time_point now) = 0;
    /// admit(), with `meanwhile`: optional work that readies what comes after an admission
    /// (nothing may depend on it having run). A governor that waits for a remote answer runs
    /// it once during that wait; one that does not skips it.
    virtual std::variant<Admission, Denial>
    admit_while(const Caller& caller, std::string_view model, const Estimate& estimate,
                Clock::time_point now, const std::function<void()>& meanwhile) {
        (void)meanwhile;
        return admit(caller, model, estimate, now);
    }
    /// Replaces the reservation with the real usage and cost as soon as the answer is done
    /// (the agent's next request sees it at once); counts tokens for TPM. `agent`,
    /// `reservation` and `reserved_usd` are the admission's.
    virtual void settle(const Admission& admission, int64_t tokens, double cost_usd,
                        Clock::time_point now) = 0;
    /// A settled cost is in the ledger now (or could not be stored: it was spent anyway).
    virtual void committed(const std::optional<std::string>& agent, double cost_usd) = 0;
};

/// The token in an Authorization header's value ("Bearer <token>"); empty when there is none.
std::string_view bearer_token(std::string_view header);
/// Adds x-ratelimit-{limit,remaining,reset}-`kind`, as OpenAI sends them.
void add_rate_headers(Headers& headers, std::string_view kind, int64_t limit, int64_t remaining,
                      long long reset_s);

/// The refusals both governors give, worded once.
namespace denials {
Denial missing_token();
Denial unknown_token();
Denial no_longer_exists(const std::string& agent);
Denial revoked(const std::string& agent, const std::string& revoked_at);
Denial model_not_allowed(const Agent& agent, std::string_view model);
Denial rpm_reached(const std::string& agent, int64_t rpm, long long reset_s);
Denial tpm_reached(const std::string& agent, int64_t tpm, int64_t used, long long reset_s);
Denial budget_spent(const std::string& agent, double spent, double budget);
/// Not enough left for this request: `completes` says whether an answer was to be paid for.
Denial budget_short(const std::string& agent, double left, double budget, double held,
                    double prompt_usd, bool completes);
} // namespace denials

/// The part of an admission the budget decides: what to hold and any completion cap.
struct BudgetHold {
    double reserved_usd = 0;
    std::optional<int64_t> max_tokens;
};
/// Fits `estimate` into `left` USD: the hold, or nullopt when not even one completion token
/// (or, for embeddings, the prompt) fits.
std::optional<BudgetHold> fit_budget(double left, const Estimate& estimate);

/// The agents a governor knows, by name and by token hash, and the identification of a
/// request against them: the same for every governor, whatever stores its agents. Not
/// thread-safe: the governor's lock covers it.
class AgentIndex {
public:
    /// Brings the index up to date (through `replace`); `force` skips any recheck interval.
    using Refresh = std::function<void(bool force)>;

    /// Replaces every agent.
    void replace(std::vector<Agent> agents);
    bool empty() const { return m_by_name.empty(); }
    /// The live agent `authorization` names (null when no authentication is in force: not
    /// required and no agent known), or why not. A token no known agent holds forces a refresh
    /// first: the agent may have been created a moment ago.
    std::variant<const Agent*, Denial> identify(std::string_view authorization, bool require_auth,
                                                const Refresh& refresh);
    /// identify's answer as the Caller a request carries on (an empty one when no
    /// authentication is in force), or why not: what every Governor's authenticate returns.
    std::variant<Caller, Denial> authenticate(std::string_view authorization, bool require_auth,
                                              const Refresh& refresh);
    /// The live agent `caller` names (null for a caller without one), or why it may not go on.
    std::variant<const Agent*, Denial> find(const Caller& caller, const Refresh& refresh);

private:
    /// The agent with `token`'s hash, or null. SHA-256 is the dearest step of a governed
    /// request, so a bounded number of tokens' hashes is remembered.
    const Agent* by_token(std::string_view token);

    std::map<std::string, Agent, std::less<>> m_by_name;
    std::map<std::string, const Agent*, std::less<>> m_by_hash;
    std::map<std::string, std::string, std::less<>> m_token_hashes;
};

/// The Governor of one process: agents in the SQLite database, spending from the ledger, rate
/// windows in memory.
class LocalGovernor : public Governor {
public:
    /// `require_auth`: demand tokens even while no agent exists. Changes made by other
    /// processes are looked for at most every `recheck` (and at once for an unknown token), so
    /// a revocation or a new limit applies within that time.
    LocalGovernor(Database& db, bool require_auth,
                  std::chrono::milliseconds recheck = std::chrono::milliseconds(100));

    bool auth_required() override;
    std::variant<Caller, Denial> authenticate(std::string_view authorization) override;
    bool allows(const Caller& caller, std::string_view model) override;
    std::optional<Denial> precheck(const Caller& caller, std::string_view model,
                                   Clock::time_point now) override;
    std::variant<Admission, Denial> admit(const Caller& caller, std::string_view model,
                                          const Estimate& estimate, Clock::time_point now) override;
    void settle(const Admission& admission, int64_t tokens, double cost_usd,
                Clock::time_point now) override;
    void committed(const std::optional<std::string>& agent, double cost_usd) override;

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
    /// The live agent `caller` names, or why it may not go on. Called with the lock held.
    std::variant<const Agent*, Denial> find_caller(const Caller& caller);
    /// Model and rate checks for `agent`; fills `headers` with x-ratelimit-*. Lock held.
    std::optional<Denial> limits(const Agent& agent, std::string_view model, Clock::time_point now,
                                 Headers& headers);
    /// Reloads agents when another connection committed; `force` skips the recheck interval.
    void refresh(bool force);
    static void expire(Usage& usage, Clock::time_point now);

    Database& m_db;
    bool m_require_auth;
    std::mutex m_mutex;
    int64_t m_data_version = -1;
    std::chrono::milliseconds m_recheck;
    Clock::time_point m_checked_at{};
    AgentIndex m_agents;
    std::map<std::string, Usage, std::less<>> m_usage; ///< by agent name
};

} // namespace aimo::governance
