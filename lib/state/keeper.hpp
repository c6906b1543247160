#pragma once

#include "state/client.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace aimo::state {

/// The thread that does an instance's state-server chores off the request path: it renews the
/// leases this instance holds (fields of a hash whose values read "<amount> <expiry ms>", see
/// scripts::renew) every third of the lease, and runs queued jobs (a settlement, a release) in
/// order, `linger` after the first of them came (so jobs that can go together do). A job that fails
/// (the server is gone) is kept, with those after it, and tried again a period later. On
/// destruction it runs what is queued once more, then stops. Thread-safe.
class Keeper {
public:
    /// A job: true once done, false to be tried again later.
    using Job = std::function<bool()>;

    /// `chore`, when given, runs on the keeper's thread every renewal period.
    Keeper(StateClient& client, std::chrono::milliseconds lease,
           std::chrono::milliseconds linger = std::chrono::milliseconds(0),
           std::function<void()> chore = {});
    ~Keeper();
    Keeper(const Keeper&) = delete;
    Keeper& operator=(const Keeper&) = delete;

    /// Renews field `member` of hash `key` from now on, until dropped.
    void hold(const std::string& key, const std::string& member);
    /// Stops renewing it.
    void drop(const std::string& key, const std::string& member);
    /// Queues `job` and wakes the thread.
    void post(Job job);
    /// Jobs not yet done: queued, running, or waiting for the server.
    size_t waiting();
    /// Waits up to `timeout` until every job so far is done; false when some are still waiting.
    bool flush(std::chrono::milliseconds timeout);

private:
    void renew();
    void run_jobs();
    void loop();

    StateClient& m_client;
    std::chrono::milliseconds m_lease;
    std::chrono::milliseconds m_linger;
    std::function<void()> m_chore;

    std::mutex m_mutex;
    std::map<std::string, std::set<std::string>> m_held; ///< key → members renewed
    std::deque<Job> m_jobs;
    size_t m_running = 0;
    std::condition_variable m_done; ///< a round of jobs ended
    bool m_pending = false;         ///< a job was queued since the thread last looked
    std::chrono::steady_clock::time_point m_pending_since{};
    bool m_stopping = false;
    std::condition_variable m_wake;
    std::thread m_thread;
};

} // namespace aimo::state
