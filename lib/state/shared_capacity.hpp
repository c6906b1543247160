#pragma once

#include "sched/scheduler.hpp"
#include "state/client.hpp"
#include "state/keeper.hpp"

#include <atomic>
#include <chrono>
#include <string>

namespace aimo::state {

/// The upstream capacity counters of instances sharing one state server: a provider's (and a
/// model's) requests in flight, requests per window and tokens per window, counted by one Lua
/// script per request, so no interleaving of instances sends more than an account allows. A
/// place in flight is held for `lease` and renewed while its request runs: an instance that
/// dies frees its places a lease later. Places are given back after the reply, off the
/// request path. Keys are named by provider: instances sharing a server should give the same
/// upstream account the same provider name. Thread-safe.
class SharedCapacity : public sched::SharedLimits {
public:
    SharedCapacity(StateClient& client, std::chrono::milliseconds lease);

    std::optional<std::string> acquire(const sched::Ask& ask, sched::Clock::duration window,
                                       sched::Clock::time_point& retry_at) override;
    void release(const sched::Ask& ask, const std::string& lease, int64_t used) override;

    /// Waits up to `timeout` until every place given back has reached the server.
    bool flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
        return m_keeper.flush(timeout);
    }

private:
    StateClient& m_client;
    std::chrono::milliseconds m_lease;
    std::string m_instance; ///< random: names this process's places
    std::atomic<uint64_t> m_sequence{0};
    Keeper m_keeper; ///< last: stops before the rest goes
};

} // namespace aimo::state
