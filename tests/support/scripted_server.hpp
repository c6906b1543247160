#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace aimo::test {

/// A raw TCP server on a free loopback port that runs `script` for each accepted connection,
/// for protocol cases a real HTTP library will not produce (odd chunking, stale keep-alive,
/// garbage). Each connection runs on its own thread; all are joined on destruction.
class ScriptedServer {
public:
    /// `script(fd, index)` owns the connection; index counts connections from 0.
    explicit ScriptedServer(std::function<void(int fd, int index)> script);
    ~ScriptedServer();

    int port() const { return m_port; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    int accepted();
    /// Blocks until `count` connections have been accepted or `timeout_ms` passed.
    bool wait_accepted(int count, int timeout_ms = 10000);

    /// Reads one request head (up to the blank line) plus a Content-Length body.
    static std::string read_request(int fd);
    static void write_all(int fd, const std::string& data);

private:
    int m_listen_fd = -1;
    int m_port = 0;
    std::thread m_acceptor;
    std::mutex m_mutex;
    std::condition_variable m_accepted_changed;
    std::vector<std::thread> m_connections;
    int m_accepted = 0;
};

} // namespace aimo::test
