#include "state/tickets.hpp"

#include <algorithm>

namespace aimo::state {

namespace {
constexpr int most = 32; // per agent: more would rarely be used before they expire
} // namespace

int TicketPool::recent(Shelf& shelf, Clock::time_point now) {
    if (now - shelf.window_start >= m_ttl) {
        bool adjacent = now - shelf.window_start < 2 * m_ttl;
        shelf.last_window = adjacent ? shelf.this_window : 0;
        shelf.this_window = 0;
        shelf.window_start = now;
    }
    return std::max(shelf.this_window, shelf.last_window);
}

void TicketPool::drop(const std::string& agent, std::deque<Ticket>& tickets, size_t count) {
    if (count == 0) {
        return;
    }
    auto& out = m_dropped[agent];
    for (size_t i = 0; i < count; ++i) {
        out.push_back(std::move(tickets.front().id));
        tickets.pop_front();
    }
}

void TicketPool::drop_stale(const std::string& agent, Shelf& shelf, Clock::time_point now,
                            std::optional<uint64_t> generation) {
    // Made in order, so the stale ones are in front.
    size_t stale = 0;
    for (const auto& ticket : shelf.tickets) {
        if (ticket.usable_until > now && (!generation || ticket.generation == *generation)) {
            break;
        }
        ++stale;
    }
    drop(agent, shelf.tickets, stale);
}

std::optional<Ticket> TicketPool::take(const std::string& agent, double worst_usd,
                                       uint64_t generation, Clock::time_point now) {
    std::lock_guard lock(m_mutex);
    auto& shelf = m_shelves[agent];
    recent(shelf, now);
    ++shelf.this_window;
    drop_stale(agent, shelf, now, generation);
    auto& tickets = shelf.tickets;
    if (tickets.empty() || tickets.front().amount_usd < worst_usd) {
        return std::nullopt; // all of one refill hold the same: none of the others fits either
    }
    auto ticket = std::move(tickets.front());
    tickets.pop_front();
    return ticket;
}

int TicketPool::wanted(const std::string& agent, Clock::time_point now) {
    std::lock_guard lock(m_mutex);
    auto& shelf = m_shelves[agent];
    int busy = recent(shelf, now);
    int target = std::min(most, 2 * busy);
    if (busy < 2 || shelf.refilling || now < shelf.quiet_until ||
        static_cast<int>(shelf.tickets.size()) * 2 > target) {
        return 0;
    }
    shelf.refilling = true;
    return target - static_cast<int>(shelf.tickets.size());
}

void TicketPool::refilled(const std::string& agent, std::vector<Ticket> tickets,
                          uint64_t generation, Clock::time_point now) {
    std::lock_guard lock(m_mutex);
    auto& shelf = m_shelves[agent];
    shelf.refilling = false;
    if (tickets.empty()) {
        shelf.quiet_until = now + m_ttl;
    }
    for (auto& ticket : tickets) {
        if (ticket.generation == generation) {
            shelf.tickets.push_back(std::move(ticket));
        } else {
            m_dropped[agent].push_back(std::move(ticket.id));
        }
    }
}

std::pair<double, int> TicketPool::unused(const std::string& agent) {
    std::lock_guard lock(m_mutex);
    auto found = m_shelves.find(agent);
    if (found == m_shelves.end()) {
        return {0, 0};
    }
    double usd = 0;
    for (const auto& ticket : found->second.tickets) {
        usd += ticket.amount_usd;
    }
    return {usd, static_cast<int>(found->second.tickets.size())};
}

void TicketPool::drop_all() {
    std::lock_guard lock(m_mutex);
    for (auto& [agent, shelf] : m_shelves) {
        drop(agent, shelf.tickets, shelf.tickets.size());
    }
}

void TicketPool::drop_expired(Clock::time_point now) {
    std::lock_guard lock(m_mutex);
    for (auto& [agent, shelf] : m_shelves) {
        drop_stale(agent, shelf, now, std::nullopt);
    }
}

std::map<std::string, std::vector<std::string>> TicketPool::take_dropped() {
    std::lock_guard lock(m_mutex);
    std::map<std::string, std::vector<std::string>> out;
    out.swap(m_dropped);
    return out;
}

} // namespace aimo::state
