#include "sched/scheduler.hpp"

#include <algorithm>

namespace aimo::sched {

Scheduler::Slot::~Slot() {
    m_scheduler.release(m_provider);
}

std::unique_ptr<Scheduler::Slot>
Scheduler::acquire(const std::string& provider, int limit, const std::string& agent,
                   std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(m_mutex);
    auto& queue = m_queues[provider];
    queue.limit = std::max(1, limit); // a reload may change it; the newest request's counts
    if (queue.by_agent.empty() && queue.in_flight < static_cast<size_t>(queue.limit)) {
        ++queue.in_flight;
        return std::unique_ptr<Slot>(new Slot(*this, provider));
    }
    Waiter waiter;
    auto& mine = queue.by_agent[agent];
    if (mine.empty()) {
        queue.turns.push_back(agent);
    }
    mine.push_back(&waiter);
    if (!waiter.wake.wait_until(lock, deadline, [&] { return waiter.granted; })) {
        leave(queue, agent, &waiter);
        return nullptr;
    }
    return std::unique_ptr<Slot>(new Slot(*this, provider));
}

void Scheduler::leave(Queue& queue, const std::string& agent, Waiter* waiter) {
    auto found = queue.by_agent.find(agent);
    if (found == queue.by_agent.end()) {
        return;
    }
    auto& mine = found->second;
    mine.erase(std::remove(mine.begin(), mine.end(), waiter), mine.end());
    if (mine.empty()) {
        queue.by_agent.erase(found);
        queue.turns.erase(std::remove(queue.turns.begin(), queue.turns.end(), agent),
                          queue.turns.end());
    }
}

void Scheduler::grant_next(Queue& queue) {
    while (queue.in_flight < static_cast<size_t>(queue.limit) && !queue.turns.empty()) {
        std::string agent = std::move(queue.turns.front());
        queue.turns.pop_front();
        auto found = queue.by_agent.find(agent);
        if (found == queue.by_agent.end() || found->second.empty()) {
            continue;
        }
        Waiter* next = found->second.front();
        found->second.pop_front();
        if (found->second.empty()) {
            queue.by_agent.erase(found);
        } else {
            queue.turns.push_back(agent); // its next request waits for the others' turns
        }
        ++queue.in_flight;
        next->granted = true;
        next->wake.notify_one();
    }
}

void Scheduler::release(const std::string& provider) {
    std::lock_guard lock(m_mutex);
    auto& queue = m_queues[provider];
    --queue.in_flight;
    grant_next(queue);
}

size_t Scheduler::queued(const std::string& provider) {
    std::lock_guard lock(m_mutex);
    auto found = m_queues.find(provider);
    size_t waiting = 0;
    if (found != m_queues.end()) {
        for (const auto& [agent, waiters] : found->second.by_agent) {
            waiting += waiters.size();
        }
    }
    return waiting;
}

size_t Scheduler::in_flight(const std::string& provider) {
    std::lock_guard lock(m_mutex);
    auto found = m_queues.find(provider);
    return found == m_queues.end() ? 0 : found->second.in_flight;
}

std::vector<metrics::QueueState> Scheduler::states() {
    std::lock_guard lock(m_mutex);
    std::vector<metrics::QueueState> out;
    for (const auto& [provider, queue] : m_queues) {
        metrics::QueueState state{provider, queue.in_flight, {}};
        for (const auto& [agent, waiters] : queue.by_agent) {
            state.queued_by_agent[agent] = waiters.size();
        }
        out.push_back(std::move(state));
    }
    return out;
}

} // namespace aimo::sched
