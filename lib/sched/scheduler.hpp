#pragma once

#include "metrics/metrics.hpp"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace aimo::sched {

/// Upstream capacity shared fairly: each provider with a limit lets at most that many requests
/// out at once, and the requests waiting for a slot are served round-robin across agents
/// (first come within one agent), so one agent's flood delays another's request by at most
/// one turn. Thread-safe.
class Scheduler {
public:
    /// One request's place at a provider; the slot is free again when it is destroyed.
    class Slot {
    public:
        ~Slot();
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;

    private:
        friend class Scheduler;
        Slot(Scheduler& scheduler, std::string provider)
            : m_scheduler(scheduler), m_provider(std::move(provider)) {}
        Scheduler& m_scheduler;
        std::string m_provider;
    };

    /// Waits until `provider` (at most `limit` at once) has a slot for a request of `agent`
    /// ("-" for none); nullptr when `deadline` passes first.
    std::unique_ptr<Slot> acquire(const std::string& provider, int limit, const std::string& agent,
                                  std::chrono::steady_clock::time_point deadline);
    /// Requests waiting for a slot at `provider` now.
    size_t queued(const std::string& provider);
    /// Requests holding a slot at `provider` now.
    size_t in_flight(const std::string& provider);
    /// Every provider's slots in use and waiting requests by agent.
    std::vector<metrics::QueueState> states();

private:
    struct Waiter {
        std::condition_variable wake;
        bool granted = false;
    };
    struct Queue {
        size_t in_flight = 0;
        int limit = 1;
        std::map<std::string, std::deque<Waiter*>> by_agent;
        std::deque<std::string> turns; ///< agents with waiters, whose turn comes next first
    };
    void release(const std::string& provider);
    void grant_next(Queue& queue);                                      // lock held
    void leave(Queue& queue, const std::string& agent, Waiter* waiter); // lock held

    std::mutex m_mutex;
    std::map<std::string, Queue> m_queues;
};

} // namespace aimo::sched
