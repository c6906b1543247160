#pragma once

#include "subprocess.hpp"
#include "temp_dir.hpp"

#include <memory>
#include <string>

namespace aimo::test {

/// A real redis-server (Debian's) on a free loopback port with its own temp directory and no
/// persistence, ready once constructed (it has said it accepts connections); stopped on
/// destruction.
class RedisServer {
public:
    RedisServer();
    int port() const { return m_port; }
    std::string url() const { return "redis://127.0.0.1:" + std::to_string(m_port); }
    /// Kills it with SIGKILL, as a crash would.
    void kill();

private:
    TempDir m_dir;
    int m_port = 0;
    std::unique_ptr<Subprocess> m_process;
};

} // namespace aimo::test
