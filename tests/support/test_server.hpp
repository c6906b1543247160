#pragma once

#include <httplib.h>
#include <memory>
#include <string>
#include <thread>

namespace aimo::test {

/// Runs an httplib server on a free loopback port in a background thread. The constructor
/// returns once the server is accepting; the destructor stops and joins it.
class TestServer {
public:
    explicit TestServer(std::unique_ptr<httplib::Server> server);
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    int port() const { return m_port; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    httplib::Server& server() { return *m_server; }
    void stop();

private:
    std::unique_ptr<httplib::Server> m_server;
    std::thread m_thread;
    int m_port = -1;
};

} // namespace aimo::test
