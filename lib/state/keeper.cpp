#include "state/keeper.hpp"

#include "core/error.hpp"
#include "state/scripts.hpp"

#include <algorithm>

namespace aimo::state {

Keeper::Keeper(StateClient& client, std::chrono::milliseconds lease,
               std::chrono::milliseconds linger, std::function<void()> chore)
    : m_client(client), m_lease(lease), m_linger(linger), m_chore(std::move(chore)) {
    m_thread = std::thread([this] { loop(); });
}

Keeper::~Keeper() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

void Keeper::hold(const std::string& key, const std::string& member) {
    std::lock_guard lock(m_mutex);
    m_held[key].insert(member);
}

void Keeper::drop(const std::string& key, const std::string& member) {
    std::lock_guard lock(m_mutex);
    auto found = m_held.find(key);
    if (found != m_held.end() && found->second.erase(member) > 0 && found->second.empty()) {
        m_held.erase(found);
    }
}

void Keeper::post(Job job) {
    {
        std::lock_guard lock(m_mutex);
        m_jobs.push_back(std::move(job));
        if (!m_pending) {
            m_pending = true;
            m_pending_since = std::chrono::steady_clock::now();
        }
    }
    m_wake.notify_all();
}

size_t Keeper::waiting() {
    std::lock_guard lock(m_mutex);
    return m_jobs.size() + m_running;
}

bool Keeper::flush(std::chrono::milliseconds timeout) {
    std::unique_lock lock(m_mutex);
    return m_done.wait_for(lock, timeout, [this] { return m_jobs.empty() && m_running == 0; });
}

void Keeper::renew() {
    std::map<std::string, std::set<std::string>> held;
    {
        std::lock_guard lock(m_mutex);
        held = m_held;
    }
    for (const auto& [key, members] : held) {
        std::vector<std::string> args = {std::to_string(m_lease.count())};
        args.insert(args.end(), members.begin(), members.end());
        try {
            m_client.run(scripts::renew, {key}, args);
        } catch (const core::Error&) {
            return; // the server is gone: the client has said so
        }
    }
}

void Keeper::run_jobs() {
    std::deque<Job> jobs;
    {
        std::lock_guard lock(m_mutex);
        jobs.swap(m_jobs);
        m_running = jobs.size();
    }
    while (!jobs.empty() && jobs.front()()) {
        jobs.pop_front();
        std::lock_guard lock(m_mutex);
        --m_running;
    }
    {
        // What the server did not take waits, in order, ahead of what came meanwhile.
        std::lock_guard lock(m_mutex);
        m_jobs.insert(m_jobs.begin(), std::make_move_iterator(jobs.begin()),
                      std::make_move_iterator(jobs.end()));
        m_running = 0;
    }
    m_done.notify_all();
}

void Keeper::loop() {
    // A third of the lease renews in time; jobs waiting for a server that came back should not
    // wait long either.
    auto period =
        std::clamp(m_lease / 3, std::chrono::milliseconds(50), std::chrono::milliseconds(500));
    using Steady = std::chrono::steady_clock;
    auto next_renewal = Steady::now() + period;
    std::unique_lock lock(m_mutex);
    for (;;) {
        auto due = [&] {
            return m_stopping || Steady::now() >= next_renewal ||
                   (m_pending && Steady::now() >= m_pending_since + m_linger);
        };
        while (!due()) {
            auto until =
                m_pending ? std::min(next_renewal, m_pending_since + m_linger) : next_renewal;
            m_wake.wait_until(lock, until);
        }
        bool stopping = m_stopping;
        bool jobs = m_pending || stopping;
        m_pending = false;
        lock.unlock();
        if (!stopping && Steady::now() >= next_renewal) {
            renew();
            if (m_chore) {
                m_chore();
            }
            next_renewal = Steady::now() + period;
            jobs = true; // and retry what waits for a server that may be back
        }
        if (jobs) {
            run_jobs(); // on the way out too: what finished last still counts
        }
        if (stopping) {
            return;
        }
        lock.lock();
    }
}

} // namespace aimo::state
