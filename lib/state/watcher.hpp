#pragma once

#include "state/redis.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace aimo::state {

/// The channel every change to the shared agents is published on (see SharedAgents).
std::string changes_channel();

/// Listens on changes_channel() from a thread of its own, so an instance hears at once that an
/// agent changed or that the state server went away. Its generation moves whenever either
/// happens: what was made for one generation (a ticket) is good only while it stands.
/// Thread-safe.
class ChangeWatcher {
public:
    /// `on_change` runs on the watcher's thread after every change or loss it saw.
    ChangeWatcher(RedisAddress address, std::function<void()> on_change);
    /// stop().
    ~ChangeWatcher();
    ChangeWatcher(const ChangeWatcher&) = delete;
    ChangeWatcher& operator=(const ChangeWatcher&) = delete;

    /// The generation now, or nullopt while the watcher is not listening or something it has
    /// not read yet is waiting on its connection (a change published, the connection's end).
    std::optional<uint64_t> steady();
    /// Stops listening, for good: on_change is never called again.
    void stop();
    /// The generation now, listening or not.
    uint64_t generation() const { return m_generation.load(); }

private:
    void loop();
    /// Connects and subscribes; false when the server cannot be reached.
    bool listen();
    /// Ends this generation (and the connection, when `lost`).
    void moved(bool lost);

    RedisAddress m_address;
    std::function<void()> m_on_change;
    std::mutex m_mutex;
    std::unique_ptr<RedisConnection> m_connection; ///< subscribed; nullptr while not listening
    std::atomic<uint64_t> m_generation{0};
    std::atomic<bool> m_stopping{false};
    std::thread m_thread;
};

} // namespace aimo::state
