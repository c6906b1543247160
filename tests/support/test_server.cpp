#include "test_server.hpp"

#include <stdexcept>

namespace aimo::test {

TestServer::TestServer(std::unique_ptr<httplib::Server> server) : m_server(std::move(server)) {
    int listen_fd = -1;
    m_server->set_socket_options([&listen_fd](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        listen_fd = sock;
    });
    m_port = m_server->bind_to_any_port("127.0.0.1");
    ::listen(listen_fd, 1024); // httplib's own backlog is 5
    if (m_port <= 0) {
        throw std::runtime_error("test server could not bind");
    }
    m_thread = std::thread([this] { m_server->listen_after_bind(); });
    // Readiness: bound sockets queue connections, but stop() is ignored until the accept loop
    // runs, so wait for it with a real request.
    httplib::Client probe("127.0.0.1", m_port);
    probe.set_connection_timeout(5);
    for (int i = 0; i < 500 && !m_server->is_running(); ++i) {
        std::this_thread::yield();
        probe.Get("/__ready");
    }
    if (!m_server->is_running()) {
        throw std::runtime_error("test server did not start");
    }
}

TestServer::~TestServer() {
    stop();
}

void TestServer::stop() {
    if (m_thread.joinable()) {
        m_server->stop();
        m_thread.join();
    }
}

} // namespace aimo::test
