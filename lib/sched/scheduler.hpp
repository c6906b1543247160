#pragma once

#include "metrics/metrics.hpp"
#include "sched/limiter.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace aimo::sched {

/// What one request asks of the scheduler to go to one target.
struct Ask {
    std::string provider;
    Limits provider_limits; ///< the account's limits (the newest request's config counts)
    std::string model;      ///< the model id at the provider
    Limits model_limits;    ///< that model's own limits at the provider, if any
    std::string agent = "-";
    int weight = 1;     ///< the agent's share of the provider against other waiting agents
    int64_t tokens = 0; ///< the request's estimated tokens, for tpm
    bool again = false; ///< a retry after the provider said to wait: first in its agent's line
    /// A hold the provider asked for that ends later than this from now is not waited out:
    /// enter() refuses the request instead.
    Clock::duration longest_hold = Clock::duration::max();
};

/// Upstream capacity counted together with other aimo instances (through a shared state
/// server), for requests to a provider or model with limits. Each instance still queues and
/// orders its own requests; a request it lets out then takes a place in the shared counts too.
class SharedLimits {
public:
    virtual ~SharedLimits() = default;
    /// Counts a request of `ask` in every instance's in-flight, rpm and tpm figures when they
    /// all allow it now, and returns its lease; otherwise nullopt, with `retry_at` set to when
    /// asking again may succeed. Throws core::Error when the counts cannot be reached.
    virtual std::optional<std::string> acquire(const Ask& ask, Clock::duration window,
                                               Clock::time_point& retry_at) = 0;
    /// The request holding `lease` is over; `used` tokens (or -1: unknown) replace its
    /// estimate. Never blocks the caller on the server.
    virtual void release(const Ask& ask, const std::string& lease, int64_t used) = 0;
};

/// The door to every upstream account: a request goes out at once when the provider's (and
/// its model's) limits — requests at once, per minute, tokens per minute, a back-off the
/// upstream asked for, what its rate-limit headers say is left — allow it; otherwise it waits
/// in the provider's queue. The queue is fair across agents (stride scheduling: each agent
/// gets turns in proportion to its weight, so a flood of one agent delays another agent's
/// request by at most one turn), first come within one agent. Thread-safe.
class Scheduler {
public:
    /// `window`: the "minute" of rpm and tpm (shorter only in tests). A request counts in it
    /// for a little longer (1%, at least 50 ms): the upstream counts it a moment after aimo
    /// sent it, and must not see it in its window when aimo no longer does.
    /// `shared`, when set, also counts every request to a provider or model with limits with
    /// other instances (see SharedLimits); when it cannot be reached, this instance's own
    /// counts stand alone.
    explicit Scheduler(Clock::duration window = std::chrono::minutes(1),
                       SharedLimits* shared = nullptr)
        : m_window(window + std::max<Clock::duration>(window / 100, std::chrono::milliseconds(50))),
          m_shared(shared) {}

    struct Queue;
    struct Waiter;
    /// One request's place: waiting, then holding a slot, which is free again (and the next
    /// waiting request let out) when the ticket is destroyed; a waiting ticket destroyed
    /// leaves the queue.
    class Ticket {
    public:
        ~Ticket();
        Ticket(const Ticket&) = delete;
        Ticket& operator=(const Ticket&) = delete;

        /// True once it holds a slot (here, and in the shared counts when they apply).
        bool granted() const;
        /// Waits until it holds a slot or `until` passes; true when it holds one.
        bool wait(Clock::time_point until);
        /// The request has been sent upstream: see Limiter::sent.
        void sent();
        /// The request really used `tokens`: they replace its estimate in the tpm windows.
        void used(int64_t tokens);
        /// How long it waited (so far, while waiting).
        Clock::duration waited() const;

    private:
        friend class Scheduler;
        Ticket(Scheduler& scheduler, Queue& queue, std::unique_ptr<Waiter> waiter);
        /// Holding a local slot, takes the shared one when due; true once it holds both.
        bool take_shared();
        Scheduler& m_scheduler;
        Queue& m_queue;
        std::unique_ptr<Waiter> m_waiter;
        bool m_needs_shared; ///< shared counts apply to where it goes
        bool m_shared_ok;    ///< no shared counts apply, or it holds its place in them
        std::string m_lease;
        Clock::time_point m_shared_retry{};
        Clock::time_point m_granted_at{}; ///< when it held both
        int64_t m_used = -1;
    };

    /// Takes `ask` into its provider's queue; the ticket is granted at once when nothing is
    /// waiting and the limits allow it. nullptr when the provider is held longer than
    /// `ask.longest_hold` (held_until() says until when).
    std::unique_ptr<Ticket> enter(Ask ask);
    /// The provider asked aimo to wait (429, or 503 with Retry-After): nothing goes out to it
    /// before `until`.
    void hold(const std::string& provider, Clock::time_point until);
    /// Takes the x-ratelimit-remaining-* headers of an answer from `model` at `provider`.
    void observe(const std::string& provider, const std::string& model,
                 const core::Headers& headers);
    /// Until when the provider holds every request (in the past when it does not).
    Clock::time_point held_until(const std::string& provider);
    /// Requests waiting at `provider` now.
    size_t queued(const std::string& provider);
    /// Requests holding a slot at `provider` now.
    size_t in_flight(const std::string& provider);
    /// Every provider's state now, for /metrics and `aimo status`.
    std::vector<metrics::QueueState> states();

    struct Waiter {
        Ask ask;
        uint64_t seq = 0;
        std::condition_variable wake;
        std::atomic<bool> granted{false};
        Clock::time_point entered;
        Clock::time_point started;
        Stamp stamp;       ///< in the provider's windows
        Stamp model_stamp; ///< in its model's
    };
    struct Line {
        std::deque<Waiter*> waiting;
        double pass = 0;
        size_t in_flight = 0;
    };
    struct Queue {
        Limiter limiter;
        std::map<std::string, Limiter> models;
        std::map<std::string, Line> lines; ///< by agent
        double clock = 0;                  ///< the pass of the last agent served
        size_t waiting = 0;
    };

private:
    // All below with the lock held.
    Queue& queue_of(const Ask& ask);
    Limiter* model_limiter(Queue& queue, const Ask& ask);
    bool fits(Queue& queue, const Waiter& waiter, Clock::time_point now, Clock::time_point& wake);
    void start(Queue& queue, Waiter& waiter, Clock::time_point now);
    Clock::time_point grant_next(Queue& queue, Clock::time_point now);
    void release(Queue& queue, Waiter& waiter);
    void leave(Queue& queue, Waiter& waiter);

    Clock::duration m_window;
    SharedLimits* m_shared;
    std::mutex m_mutex;
    std::map<std::string, Queue> m_queues; ///< by provider; never erased (tickets point in)
    uint64_t m_seq = 0;
};

} // namespace aimo::sched
