#include "scripted_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace aimo::test {

ScriptedServer::ScriptedServer(std::function<void(int, int)> script) {
    m_listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        listen(m_listen_fd, 64) != 0) {
        throw std::runtime_error("scripted server could not listen");
    }
    socklen_t len = sizeof addr;
    getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
    m_port = ntohs(addr.sin_port);
    m_acceptor = std::thread([this, script = std::move(script)] {
        for (;;) {
            int fd = accept(m_listen_fd, nullptr, nullptr);
            if (fd < 0) {
                return;
            }
            std::lock_guard lock(m_mutex);
            int index = m_accepted++;
            m_accepted_changed.notify_all();
            m_connections.emplace_back([script, fd, index] {
                script(fd, index);
                close(fd);
            });
        }
    });
}

ScriptedServer::~ScriptedServer() {
    shutdown(m_listen_fd, SHUT_RDWR);
    close(m_listen_fd);
    m_acceptor.join();
    std::lock_guard lock(m_mutex);
    for (auto& t : m_connections) {
        t.join();
    }
}

int ScriptedServer::accepted() {
    std::lock_guard lock(m_mutex);
    return m_accepted;
}

bool ScriptedServer::wait_accepted(int count, int timeout_ms) {
    std::unique_lock lock(m_mutex);
    return m_accepted_changed.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                       [&] { return m_accepted >= count; });
}

std::string ScriptedServer::read_request(int fd) {
    std::string data;
    char buffer[4096];
    size_t head_end;
    while ((head_end = data.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
            return "";
        }
        data.append(buffer, static_cast<size_t>(n));
    }
    size_t length = 0;
    if (auto pos = data.find("Content-Length: "); pos != std::string::npos && pos < head_end) {
        length = std::stoul(data.substr(pos + 16));
    }
    while (data.size() < head_end + 4 + length) {
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
            break;
        }
        data.append(buffer, static_cast<size_t>(n));
    }
    return data;
}

void ScriptedServer::write_all(int fd, const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n <= 0) {
            return;
        }
        done += static_cast<size_t>(n);
    }
}

} // namespace aimo::test
