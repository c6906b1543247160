#pragma once

#include "state/client.hpp"
#include "subprocess.hpp"
#include "temp_dir.hpp"

#include <memory>
#include <mutex>
#include <string>

namespace aimo::test {

/// A real redis-server (Debian's) on a free loopback port with its own temp directory, ready
/// once constructed (it has said it accepts connections); stopped on destruction. Without
/// `appendonly` it persists nothing.
class RedisServer {
public:
    explicit RedisServer(bool appendonly = false);
    int port() const { return m_port; }
    std::string url() const { return "redis://127.0.0.1:" + std::to_string(m_port); }
    /// Kills it with SIGKILL, as a crash would.
    void kill();
    /// Starts it again on the same port and directory (what it had persisted comes back).
    void start();

private:
    TempDir m_dir;
    int m_port = 0;
    bool m_appendonly;
    std::unique_ptr<Subprocess> m_process;
};

/// A state client of one instance over `redis` whose log lines are kept for the test to read.
class LoggedStateClient {
public:
    explicit LoggedStateClient(const RedisServer& redis);
    state::StateClient& client() { return m_client; }
    /// Everything it logged so far, a line each.
    std::string logged();

private:
    std::mutex m_mutex;
    std::string m_log;
    state::StateClient m_client;
};

} // namespace aimo::test
