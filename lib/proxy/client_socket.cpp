#include "proxy/client_socket.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace aimo::proxy {

using std::chrono::milliseconds;

ClientSocket::~ClientSocket() {
    if (fd >= 0) {
        ::close(fd);
    }
    if (m_open != nullptr) {
        --*m_open;
    }
}

namespace {
// Milliseconds left until `deadline` for poll(), at least 0.
int poll_ms(ClientSocket::Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - ClientSocket::Clock::now());
    return static_cast<int>(std::clamp<long long>(left.count(), 0, 1 << 30));
}

bool would_block() {
    return errno == EAGAIN || errno == EWOULDBLOCK;
}
} // namespace

ReadResult read_more(int fd, std::string& into, ClientSocket::Clock::time_point deadline) {
    char chunk[16 * 1024];
    for (;;) {
        ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
        if (n > 0) {
            into.append(chunk, static_cast<size_t>(n));
            return ReadResult::data;
        }
        if (n == 0) {
            return ReadResult::closed;
        }
        if (errno == EINTR) {
            continue;
        }
        if (!would_block()) {
            return ReadResult::closed;
        }
        int wait = poll_ms(deadline);
        if (wait == 0) {
            return ReadResult::timeout;
        }
        pollfd ready{fd, POLLIN, 0};
        ::poll(&ready, 1, wait);
    }
}

bool read_available(int fd, std::string& into, size_t limit) {
    char chunk[16 * 1024];
    while (into.size() < limit) {
        ssize_t n = ::recv(fd, chunk, std::min(sizeof chunk, limit - into.size()), MSG_DONTWAIT);
        if (n > 0) {
            into.append(chunk, static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        return n < 0 && would_block();
    }
    return true;
}

bool send_all(int fd, std::string_view data, milliseconds stall) {
    auto deadline = ClientSocket::Clock::now() + stall;
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data.remove_prefix(static_cast<size_t>(n));
            deadline = ClientSocket::Clock::now() + stall; // progress: the client is reading
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && would_block()) {
            int wait = poll_ms(deadline);
            if (wait == 0) {
                return false;
            }
            pollfd ready{fd, POLLOUT, 0};
            ::poll(&ready, 1, wait);
            continue;
        }
        return false;
    }
    return true;
}

bool hung_up(int fd) {
    pollfd poll_fd{fd, POLLRDHUP, 0};
    if (::poll(&poll_fd, 1, 0) <= 0) {
        return false;
    }
    return (poll_fd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

std::string peer_address(int fd) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    char text[INET6_ADDRSTRLEN] = "unknown";
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
        const void* bytes =
            address.ss_family == AF_INET6
                ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&address)->sin6_addr)
                : &reinterpret_cast<sockaddr_in*>(&address)->sin_addr;
        if (::inet_ntop(address.ss_family, bytes, text, sizeof text) == nullptr) {
            return "unknown";
        }
    }
    return text;
}

} // namespace aimo::proxy
