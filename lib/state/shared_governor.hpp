#pragma once

#include "governance/governor.hpp"
#include "state/client.hpp"
#include "state/keeper.hpp"
#include "state/tickets.hpp"
#include "state/watcher.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <string>

namespace aimo::state {

/// The Governor of instances that share one state server: agents, spending, reservations and
/// rate windows live there, and every check-and-reserve is one Lua script, so no interleaving
/// of instances passes a budget or a limit. A reservation is held for `lease` and renewed
/// while its request runs: an instance that dies stops renewing, and what it held is free
/// again a lease later. Settlements go to the server from a keeper thread, after the reply:
/// a request costs one round trip, and its hold stands until its settlement lands. Without the
/// server, admissions are refused (503, naming it) and settlements wait in memory until it is
/// back; a settlement counts once however often it is sent. Agents are cached and looked for again
/// at most every `recheck` (at once for an unknown token); a revocation is also checked atomically
/// on every admission.
///
/// With `prefetch`, a busy agent's requests are admitted ahead of time, a few at once, off the
/// request path (tickets, see scripts::prefetch): a request that finds a ticket costs no round
/// trip. A ticket is used within half a second of being made, and none is used once a change to
/// any agent is published or the connection that listens for changes ends, so a revocation or a
/// lost server still applies at once. Tickets exist only in the lower half of every limit, so
/// every admission near a limit is exact, one script each. Thread-safe.
class SharedGovernor : public governance::Governor {
public:
    /// Reads the agents; throws what StateClient::check() throws when the server cannot be
    /// used.
    SharedGovernor(StateClient& client, bool require_auth, std::chrono::milliseconds recheck,
                   std::chrono::milliseconds lease, bool prefetch = true);
    /// Gives unused tickets back, and sends what is still to be settled.
    ~SharedGovernor() override;

    bool auth_required() override;
    std::variant<governance::Caller, governance::Denial>
    authenticate(std::string_view authorization) override;
    bool allows(const governance::Caller& caller, std::string_view model) override;
    std::optional<governance::Denial> precheck(const governance::Caller& caller,
                                               std::string_view model,
                                               Clock::time_point now) override;
    std::variant<governance::Admission, governance::Denial>
    admit(const governance::Caller& caller, std::string_view model,
          const governance::Estimate& estimate, Clock::time_point now) override;
    /// Runs `meanwhile` while the admission script is on its way to the server.
    std::variant<governance::Admission, governance::Denial>
    admit_while(const governance::Caller& caller, std::string_view model,
                const governance::Estimate& estimate, Clock::time_point now,
                const std::function<void()>& meanwhile) override;
    void settle(const governance::Admission& admission, int64_t tokens, double cost_usd,
                Clock::time_point now) override;
    /// Nothing to do: the settlement already charged the shared spending.
    void committed(const std::optional<std::string>&, double) override {}

    /// Settlements not yet counted by the server: queued, being sent, or waiting for it.
    size_t unsettled();
    /// Waits up to `timeout` until every settlement so far has been sent; false when some
    /// are still waiting (the server is gone, say).
    bool flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
    /// `agent`'s unused tickets on this instance.
    int prefetched(const std::string& agent) { return m_tickets.unused(agent).second; }

private:
    struct Settlement {
        std::string agent;
        std::string reservation;
        double cost_usd = 0;
        int64_t tokens = 0;
        uint64_t number = 0; ///< 1, 2, … in the order this instance sends them
    };
    /// Reloads the agents when their version moved; `force` skips the recheck interval. Keeps
    /// what it had when the server cannot be reached. Lock held.
    void refresh(bool force);
    /// The cached agent `caller` names, or why it may not go on. Lock held.
    std::variant<const governance::Agent*, governance::Denial>
    find_caller(const governance::Caller& caller);
    governance::Denial unavailable(const core::Error& error) const;
    /// Counts `batch` in the server; false when it cannot be reached.
    bool send(const std::vector<Settlement>& batch);
    /// The keeper's job: sends what is queued, in batches, oldest first.
    bool send_settlements();
    /// Asks the keeper for tickets when `agent` is busy and short of them; each holds twice
    /// `worst_usd`.
    void refill(const std::string& agent, double worst_usd);
    /// The keeper's job: makes up to `count` tickets for `agent`.
    void make_tickets(const std::string& agent, double amount_usd, int count);
    /// Asks the keeper to give the dropped tickets back to the server.
    void give_back();

    StateClient& m_client;
    bool m_require_auth;
    std::chrono::milliseconds m_recheck;
    std::chrono::milliseconds m_lease;
    std::string m_instance; ///< random: names this process's reservations
    std::atomic<uint64_t> m_sequence{0};

    std::mutex m_mutex;
    std::string m_version{"?"}; ///< the agents' version loaded; "?" matches none: the first loads
    Clock::time_point m_checked_at{};
    governance::AgentIndex m_agents;
    std::deque<Settlement> m_unsettled; ///< in order; each leaves once the server counted it
    uint64_t m_settlements = 0;         ///< numbered so far
    std::atomic<bool> m_stopping{false};
    TicketPool m_tickets;
    std::unique_ptr<ChangeWatcher> m_watcher; ///< with prefetch only
    /// Renews open holds and sends settlements; last, so it stops before the rest goes.
    Keeper m_keeper;
};

} // namespace aimo::state
