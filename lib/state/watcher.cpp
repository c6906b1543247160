#include "state/watcher.hpp"

#include "core/error.hpp"
#include "state/client.hpp"

#include <poll.h>

namespace aimo::state {

namespace {
constexpr std::chrono::milliseconds connect_timeout{2000};
// How often a stopping watcher notices, and how soon a lost server is tried again.
constexpr int tick_ms = 100;

bool readable(int fd, int timeout_ms) {
    pollfd event{fd, POLLIN, 0};
    return poll(&event, 1, timeout_ms) != 0; // an error counts: the caller reads and learns
}
} // namespace

std::string changes_channel() {
    return key("changes");
}

ChangeWatcher::ChangeWatcher(RedisAddress address, std::function<void()> on_change)
    : m_address(std::move(address)), m_on_change(std::move(on_change)) {
    m_thread = std::thread([this] { loop(); });
}

ChangeWatcher::~ChangeWatcher() {
    stop();
}

void ChangeWatcher::stop() {
    m_stopping = true;
    if (m_thread.joinable()) {
        m_thread.join();
    }
    std::lock_guard lock(m_mutex);
    m_connection.reset();
    ++m_generation;
}

std::optional<uint64_t> ChangeWatcher::steady() {
    std::lock_guard lock(m_mutex);
    if (!m_connection || readable(m_connection->fd(), 0)) {
        return std::nullopt;
    }
    return m_generation.load();
}

bool ChangeWatcher::listen() {
    try {
        auto connection = std::make_unique<RedisConnection>(m_address, connect_timeout);
        connection->send({"SUBSCRIBE", changes_channel()});
        connection->receive(); // the confirmation: from now on nothing published is missed
        std::lock_guard lock(m_mutex);
        m_connection = std::move(connection);
        ++m_generation;
        return true;
    } catch (const core::Error&) {
        return false;
    }
}

void ChangeWatcher::moved(bool lost) {
    std::unique_ptr<RedisConnection> gone;
    {
        std::lock_guard lock(m_mutex);
        ++m_generation;
        if (lost) {
            gone = std::move(m_connection);
        }
    }
    if (m_on_change) {
        m_on_change();
    }
}

void ChangeWatcher::loop() {
    while (!m_stopping) {
        RedisConnection* connection = nullptr;
        {
            std::lock_guard lock(m_mutex);
            connection = m_connection.get();
        }
        if (connection == nullptr) {
            if (!listen()) {
                std::this_thread::sleep_for(std::chrono::milliseconds(tick_ms));
            }
            continue;
        }
        if (!readable(connection->fd(), tick_ms)) {
            continue;
        }
        // The generation moves before the news is read (until then steady() sees it waiting)
        // and again after: a read may take in more than one, and what was made in between
        // may not have seen the second.
        try {
            moved(false);
            connection->receive();
            moved(false);
        } catch (const core::Error&) {
            moved(true);
        }
    }
}

} // namespace aimo::state
