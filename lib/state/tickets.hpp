#pragma once

#include "core/headers.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace aimo::state {

/// One request admitted ahead of time by scripts::prefetch: its hold (when the agent has a
/// budget) and its place in the request window are already in the state server.
struct Ticket {
    std::string id;          ///< the reservation's name in the server
    double amount_usd = 0;   ///< what it holds; 0 when the agent has no budget
    bool budgeted = false;   ///< the agent had a budget when it was made
    uint64_t generation = 0; ///< the ChangeWatcher generation it was made in
    std::chrono::steady_clock::time_point usable_until{};
    core::Headers headers; ///< x-ratelimit-* as they stood when it was made
};

/// The tickets one instance holds, per agent, and how busy each agent is: only an agent that
/// sends more than one request per `ttl` gets tickets, about twice as many as it uses per
/// `ttl`, refilled when half are gone. Tickets past their use, or of an older generation, are
/// dropped, to be given back to the server. Thread-safe.
class TicketPool {
public:
    using Clock = std::chrono::steady_clock;
    explicit TicketPool(std::chrono::milliseconds ttl) : m_ttl(ttl) {}

    /// How long a ticket may be used after it was asked for.
    std::chrono::milliseconds ttl() const { return m_ttl; }
    /// Counts one admission of `agent`, then takes the oldest of its tickets that is of
    /// `generation`, still usable at `now` and holds at least `worst_usd`.
    std::optional<Ticket> take(const std::string& agent, double worst_usd, uint64_t generation,
                               Clock::time_point now);
    /// How many tickets to ask for `agent` now; 0 when it is not busy, has enough, or a
    /// refill is already on its way. A nonzero answer must be followed by refilled().
    int wanted(const std::string& agent, Clock::time_point now);
    /// Ends the refill wanted() started, with the tickets it got (dropped at once when their
    /// generation has moved on meanwhile: `generation` is the one now). A refill that got none
    /// (the agent is near a limit, say) is not asked for again for a ttl after `now`.
    void refilled(const std::string& agent, std::vector<Ticket> tickets, uint64_t generation,
                  Clock::time_point now);
    /// The USD held and the count of `agent`'s unused tickets.
    std::pair<double, int> unused(const std::string& agent);
    /// Drops every ticket (an agent changed, or the server went away).
    void drop_all();
    /// Drops the tickets no longer usable at `now`.
    void drop_expired(Clock::time_point now);
    /// The dropped tickets, per agent, to give back; empties that list.
    std::map<std::string, std::vector<std::string>> take_dropped();

private:
    struct Shelf {
        std::deque<Ticket> tickets;
        bool refilling = false;
        Clock::time_point quiet_until{}; ///< no refill before: the last one got nothing
        Clock::time_point window_start{};
        int this_window = 0; ///< admissions since window_start
        int last_window = 0; ///< admissions in the ttl before it
    };
    /// Admissions in about the last ttl.
    int recent(Shelf& shelf, Clock::time_point now);
    /// Moves the first `count` of `tickets` to the dropped ones.
    void drop(const std::string& agent, std::deque<Ticket>& tickets, size_t count);
    /// Drops the tickets in front that are past their use at `now` or, when `generation` is
    /// given, of another one.
    void drop_stale(const std::string& agent, Shelf& shelf, Clock::time_point now,
                    std::optional<uint64_t> generation);

    std::chrono::milliseconds m_ttl;
    std::mutex m_mutex;
    std::map<std::string, Shelf> m_shelves;
    std::map<std::string, std::vector<std::string>> m_dropped;
};

} // namespace aimo::state
