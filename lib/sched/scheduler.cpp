#include "sched/scheduler.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <thread>

namespace aimo::sched {

Scheduler::Ticket::Ticket(Scheduler& scheduler, Queue& queue, std::unique_ptr<Waiter> waiter)
    : m_scheduler(scheduler), m_queue(queue), m_waiter(std::move(waiter)),
      m_needs_shared(scheduler.m_shared != nullptr &&
                     (m_waiter->ask.provider_limits.any() || m_waiter->ask.model_limits.any())),
      m_shared_ok(!m_needs_shared) {}

Scheduler::Ticket::~Ticket() {
    {
        std::lock_guard lock(m_scheduler.m_mutex);
        if (m_waiter->granted) {
            m_scheduler.release(m_queue, *m_waiter);
        } else {
            m_scheduler.leave(m_queue, *m_waiter);
        }
    }
    if (!m_lease.empty()) {
        m_scheduler.m_shared->release(m_waiter->ask, m_lease, m_used);
    }
}

bool Scheduler::Ticket::granted() const {
    return m_waiter->granted && m_shared_ok;
}

bool Scheduler::Ticket::take_shared() {
    if (m_shared_ok) {
        return true;
    }
    auto now = Clock::now();
    if (now < m_shared_retry) {
        return false;
    }
    try {
        if (auto lease = m_scheduler.m_shared->acquire(m_waiter->ask, m_scheduler.m_window,
                                                       m_shared_retry)) {
            m_lease = std::move(*lease);
            m_shared_ok = true;
        }
    } catch (const core::Error&) {
        // The state server is gone (its client has said so): this instance's own counts
        // stand alone until it is back, rather than holding every request.
        m_shared_ok = true;
    }
    if (m_shared_ok) {
        m_granted_at = Clock::now();
    }
    return m_shared_ok;
}

bool Scheduler::Ticket::wait(Clock::time_point until) {
    std::unique_lock lock(m_scheduler.m_mutex);
    for (;;) {
        if (m_waiter->granted) {
            if (m_shared_ok) {
                return true;
            }
            // A local slot is held; the shared counts are on another server, and what frees
            // a place there (another instance's release) sends no signal here: ask again
            // when the server said, or a moment later.
            lock.unlock();
            if (take_shared()) {
                return true;
            }
            if (Clock::now() >= until) {
                return false;
            }
            std::this_thread::sleep_until(std::min(until, m_shared_retry));
            lock.lock();
            continue;
        }
        // Whoever wakes looks for what time has freed (a window moved on, a hold ended):
        // a release wakes the waiters it lets out itself.
        auto now = Clock::now();
        auto wake = m_scheduler.grant_next(m_queue, now);
        if (m_waiter->granted) {
            return true;
        }
        if (now >= until) {
            return false;
        }
        m_waiter->wake.wait_until(lock, std::min(until, wake));
    }
}

namespace {
// True when a request counts in no window (no rpm or tpm where it went): nothing to update.
// Its stamps were written before it was granted, and only its owner changes them after.
bool unstamped(const Scheduler::Waiter& waiter) {
    return waiter.stamp.request == 0 && waiter.stamp.tokens == 0 &&
           waiter.model_stamp.request == 0 && waiter.model_stamp.tokens == 0;
}
} // namespace

void Scheduler::Ticket::sent() {
    // Sent at once (a pooled connection): its stamps stand, and the lock is not needed.
    if (!m_waiter->granted || unstamped(*m_waiter) ||
        Clock::now() - m_waiter->started < std::chrono::milliseconds(10)) {
        return;
    }
    std::lock_guard lock(m_scheduler.m_mutex);
    if (!m_waiter->granted) {
        return;
    }
    auto now = Clock::now();
    m_queue.limiter.sent(m_waiter->stamp, now);
    if (auto* model = m_scheduler.model_limiter(m_queue, m_waiter->ask)) {
        model->sent(m_waiter->model_stamp, now);
    }
}

void Scheduler::Ticket::used(int64_t tokens) {
    m_used = tokens;
    if (!m_waiter->granted || unstamped(*m_waiter)) {
        return;
    }
    std::lock_guard lock(m_scheduler.m_mutex);
    if (!m_waiter->granted) {
        return;
    }
    m_queue.limiter.used(m_waiter->stamp, tokens);
    if (auto* model = m_scheduler.model_limiter(m_queue, m_waiter->ask)) {
        model->used(m_waiter->model_stamp, tokens);
    }
}

Clock::duration Scheduler::Ticket::waited() const {
    std::lock_guard lock(m_scheduler.m_mutex);
    if (!m_waiter->granted || !m_shared_ok) {
        return Clock::now() - m_waiter->entered;
    }
    return (m_needs_shared ? m_granted_at : m_waiter->started) - m_waiter->entered;
}

Scheduler::Queue& Scheduler::queue_of(const Ask& ask) {
    auto& queue = m_queues[ask.provider];
    queue.limiter.limits = ask.provider_limits; // a reload may change them
    if (ask.model_limits.any()) {
        queue.models[ask.model].limits = ask.model_limits;
    } else if (auto found = queue.models.find(ask.model); found != queue.models.end()) {
        found->second.limits = {};
    }
    return queue;
}

Limiter* Scheduler::model_limiter(Queue& queue, const Ask& ask) {
    auto found = queue.models.find(ask.model);
    return found == queue.models.end() ? nullptr : &found->second;
}

bool Scheduler::fits(Queue& queue, const Waiter& waiter, Clock::time_point now,
                     Clock::time_point& wake) {
    if (!queue.limiter.admits(waiter.ask.tokens, now, m_window, wake)) {
        return false;
    }
    auto* model = model_limiter(queue, waiter.ask);
    return model == nullptr || model->admits(waiter.ask.tokens, now, m_window, wake);
}

void Scheduler::start(Queue& queue, Waiter& waiter, Clock::time_point now) {
    waiter.stamp = queue.limiter.start(waiter.ask.tokens, now);
    if (auto* model = model_limiter(queue, waiter.ask)) {
        waiter.model_stamp = model->start(waiter.ask.tokens, now);
    }
    ++queue.lines[waiter.ask.agent].in_flight;
    waiter.started = now;
    waiter.granted = true;
}

std::unique_ptr<Scheduler::Ticket> Scheduler::enter(Ask ask) {
    auto waiter = std::make_unique<Waiter>();
    auto now = Clock::now();
    waiter->entered = now;
    waiter->ask = std::move(ask);
    std::unique_lock lock(m_mutex);
    auto& queue = queue_of(waiter->ask);
    if (auto held = queue.limiter.held_until();
        held > now && held - now > waiter->ask.longest_hold) {
        return nullptr;
    }
    waiter->seq = ++m_seq;
    auto wake = Clock::time_point::max();
    if (queue.waiting == 0 && fits(queue, *waiter, now, wake)) {
        start(queue, *waiter, now);
        auto ticket = std::unique_ptr<Ticket>(new Ticket(*this, queue, std::move(waiter)));
        lock.unlock(); // the shared counts are a round trip away
        ticket->take_shared();
        return ticket;
    }
    auto& line = queue.lines[waiter->ask.agent];
    if (line.waiting.empty()) {
        // An agent that was not waiting joins at the current turn: turns it did not use
        // are not saved up.
        line.pass = std::max(line.pass, queue.clock);
    }
    if (waiter->ask.again) {
        line.waiting.push_front(waiter.get());
    } else {
        line.waiting.push_back(waiter.get());
    }
    ++queue.waiting;
    return std::unique_ptr<Ticket>(new Ticket(*this, queue, std::move(waiter)));
}

Clock::time_point Scheduler::grant_next(Queue& queue, Clock::time_point now) {
    auto wake = Clock::time_point::max();
    while (queue.waiting > 0) {
        // The agent whose turn is next (lowest pass; the older request on a tie) among those
        // with a request that may start now; within an agent, the first that may.
        Line* best = nullptr;
        std::deque<Waiter*>::iterator pick;
        for (auto& [agent, line] : queue.lines) {
            for (auto it = line.waiting.begin(); it != line.waiting.end(); ++it) {
                if (!fits(queue, **it, now, wake)) {
                    continue;
                }
                if (best == nullptr || line.pass < best->pass ||
                    (line.pass == best->pass && (*it)->seq < (*pick)->seq)) {
                    best = &line;
                    pick = it;
                }
                break;
            }
        }
        if (best == nullptr) {
            break;
        }
        Waiter* next = *pick;
        best->waiting.erase(pick);
        --queue.waiting;
        queue.clock = std::max(queue.clock, best->pass);
        best->pass += 1.0 / std::max(1, next->ask.weight);
        start(queue, *next, now);
        next->wake.notify_one();
    }
    return wake;
}

void Scheduler::release(Queue& queue, Waiter& waiter) {
    queue.limiter.finish();
    if (auto* model = model_limiter(queue, waiter.ask)) {
        model->finish();
    }
    --queue.lines[waiter.ask.agent].in_flight;
    grant_next(queue, Clock::now());
}

void Scheduler::leave(Queue& queue, Waiter& waiter) {
    auto& waiting = queue.lines[waiter.ask.agent].waiting;
    auto found = std::find(waiting.begin(), waiting.end(), &waiter);
    if (found != waiting.end()) {
        waiting.erase(found);
        --queue.waiting;
    }
}

void Scheduler::hold(const std::string& provider, Clock::time_point until) {
    std::lock_guard lock(m_mutex);
    m_queues[provider].limiter.hold(until);
}

void Scheduler::observe(const std::string& provider, const std::string& model,
                        const core::Headers& headers) {
    if (!headers.has("x-ratelimit-remaining-requests") &&
        !headers.has("x-ratelimit-remaining-tokens")) {
        return;
    }
    std::lock_guard lock(m_mutex);
    // Such headers describe the model's limits at the account (OpenAI's are per model).
    m_queues[provider].models[model].observe(headers, Clock::now());
}

Clock::time_point Scheduler::held_until(const std::string& provider) {
    std::lock_guard lock(m_mutex);
    auto found = m_queues.find(provider);
    return found == m_queues.end() ? Clock::time_point{} : found->second.limiter.held_until();
}

size_t Scheduler::queued(const std::string& provider) {
    std::lock_guard lock(m_mutex);
    auto found = m_queues.find(provider);
    return found == m_queues.end() ? 0 : found->second.waiting;
}

size_t Scheduler::in_flight(const std::string& provider) {
    std::lock_guard lock(m_mutex);
    auto found = m_queues.find(provider);
    return found == m_queues.end() ? 0 : found->second.limiter.in_flight();
}

std::vector<metrics::QueueState> Scheduler::states() {
    std::lock_guard lock(m_mutex);
    auto now = Clock::now();
    std::vector<metrics::QueueState> out;
    for (auto& [provider, queue] : m_queues) {
        metrics::QueueState state;
        state.provider = provider;
        state.in_flight = queue.limiter.in_flight();
        for (const auto& [agent, line] : queue.lines) {
            if (!line.waiting.empty()) {
                state.queued_by_agent[agent] = line.waiting.size();
            }
            if (line.in_flight > 0) {
                state.in_flight_by_agent[agent] = line.in_flight;
            }
        }
        auto held = queue.limiter.held_until();
        state.held_seconds = held > now ? std::chrono::duration<double>(held - now).count() : 0;
        queue.limiter.expire(now, m_window);
        state.window_requests = queue.limiter.window_requests();
        state.window_tokens = queue.limiter.window_tokens();
        state.max_in_flight = queue.limiter.limits.max_in_flight;
        state.rpm = queue.limiter.limits.rpm;
        state.tpm = queue.limiter.limits.tpm;
        out.push_back(std::move(state));
    }
    return out;
}

} // namespace aimo::sched
