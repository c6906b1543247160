#include "proxy/server.hpp"

#include "core/error.hpp"
#include "proxy/server_impl.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <random>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace aimo::proxy {

// Why not cpp-httplib's server (the design card's first choice, and this file's until #12):
// Debian's build waits with select(), so a connection on a descriptor past 1023 gets a 500; it
// gives each request on a connection a fresh read buffer, so pipelined requests are dropped;
// it puts no limit on chunked or length-less bodies and skips a huge Content-Length by reading
// it; its read timeout restarts with every byte, so a slow client holds a thread forever; and
// every idle keep-alive connection holds a thread polling every millisecond. None of that is
// reachable from outside its private request loop, so aimo reads HTTP/1.1 itself
// (proxy/http_parse.cpp, tested and fuzzed on its own) and keeps httplib for test fakes.

namespace server_detail {

std::string new_request_id() {
    thread_local std::mt19937_64 random{std::random_device{}()};
    std::string id = "req_0000000000000000"; // 16 hex digits, as fmt's {:016x} would print
    uint64_t value = random();
    for (size_t i = id.size(); value != 0; value >>= 4) {
        id[--i] = "0123456789abcdef"[value & 15];
    }
    return id;
}

namespace {
// A header line must not carry bytes that would end it or smuggle another one in.
bool has_control(std::string_view text) {
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && u != '\t') || u == 0x7F) {
            return true;
        }
    }
    return false;
}
} // namespace

void append_header(std::string& out, std::string_view name, std::string_view value) {
    if (name.empty() || has_control(name) || has_control(value)) {
        return;
    }
    out.append(name).append(": ").append(value).append("\r\n");
}

std::string chunk_frame(std::string_view data) {
    std::string frame = fmt::format("{:x}\r\n", data.size());
    frame.reserve(frame.size() + data.size() + 2);
    frame.append(data).append("\r\n");
    return frame;
}

// The method and target of a request line, for the access log of a request that was refused
// before it could be parsed.
std::pair<std::string, std::string> request_line_parts(std::string_view head) {
    auto line = head.substr(0, head.find('\n'));
    auto space = line.find(' ');
    auto method = line.substr(0, std::min<size_t>(space, 32));
    std::string_view target;
    if (space != std::string_view::npos) {
        target = line.substr(space + 1);
        target = target.substr(0, std::min<size_t>(target.find(' '), 256));
    }
    return {method.empty() ? "-" : std::string(method), target.empty() ? "-" : std::string(target)};
}

} // namespace server_detail

using namespace server_detail;

Server::Server(Handler& handler, ServerOptions options)
    : m_impl(std::make_shared<Impl>(handler, std::move(options))) {}

Server::~Server() {
    stop();
    // stop() woke the idle workers; a worker still answering (a stream drain() gave up on)
    // is given a moment, then left to end on its own. The log stream is the caller's and
    // may go with this object, so nothing is written to it from now on either way.
    {
        std::unique_lock lock(m_impl->work_mutex);
        m_impl->workers_gone.wait_for(lock, std::chrono::seconds(2),
                                      [&] { return m_impl->workers == 0; });
    }
    m_impl->access_log.close();
}

int Server::bind() {
    auto& impl = *m_impl;
    const auto& options = impl.options;
    auto fail = [&](int err) -> core::Error {
        bool in_use = err == EADDRINUSE;
        return core::Error(
            core::ErrorKind::io,
            fmt::format("cannot listen on {}:{}: {}", options.host, options.port,
                        in_use ? "the port is already in use" : std::strerror(err)),
            in_use ? fmt::format("another aimo may already be running (try 'curl "
                                 "http://{}:{}/health'); pick another port with --port, or "
                                 "--port 0 for a free one",
                                 options.host, options.port)
                   : "check --host; it must be an address of this machine");
    };
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string service = std::to_string(options.port);
    if (int rc = ::getaddrinfo(options.host.c_str(), service.c_str(), &hints, &found); rc != 0) {
        throw core::Error(core::ErrorKind::io,
                          fmt::format("cannot listen on {}:{}: {}", options.host, options.port,
                                      ::gai_strerror(rc)),
                          "check --host; it must be an address of this machine");
    }
    int err = EADDRNOTAVAIL;
    for (auto* ai = found; ai != nullptr && impl.listen_fd < 0; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        // SO_REUSEADDR for restarts over TIME_WAIT; no SO_REUSEPORT: a second aimo on the same
        // port must fail, not silently share it. A large backlog: agents open many streams at
        // once, and dropped SYNs cost a second each.
        int yes = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, 4096) == 0) {
            impl.listen_fd = fd;
        } else {
            err = errno;
            ::close(fd);
        }
    }
    ::freeaddrinfo(found);
    if (impl.listen_fd < 0) {
        throw fail(err);
    }
    sockaddr_storage bound{};
    socklen_t size = sizeof bound;
    ::getsockname(impl.listen_fd, reinterpret_cast<sockaddr*>(&bound), &size);
    impl.port =
        ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    impl.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    impl.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (impl.epoll_fd < 0 || impl.wake_fd < 0) {
        throw fail(errno);
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = &listen_tag;
    ::epoll_ctl(impl.epoll_fd, EPOLL_CTL_ADD, impl.listen_fd, &event);
    event.data.ptr = &wake_tag;
    ::epoll_ctl(impl.epoll_fd, EPOLL_CTL_ADD, impl.wake_fd, &event);
    return impl.port;
}

bool Server::run() {
    auto& impl = *m_impl;
    if (impl.port < 0) {
        bind();
    }
    impl.poll_loop();
    std::unique_lock lock(impl.flight_mutex);
    bool drained = impl.flight_done.wait_for(lock, impl.options.drain_timeout,
                                             [&] { return impl.active.empty(); });
    lock.unlock();
    if (!drained) {
        impl.cut_off_in_flight();
        // A request cut off while waiting for its upstream's answer notices within 250 ms and
        // ends; give them that, so the caller can tear down what they use.
        lock.lock();
        impl.flight_done.wait_for(lock, std::chrono::seconds(2),
                                  [&] { return impl.active.empty(); });
        lock.unlock();
    }
    impl.access_log.flush();
    return drained;
}

void Server::stop() {
    auto& impl = *m_impl;
    {
        std::lock_guard lock(impl.park_mutex); // parking checks the flag under it
        if (impl.stopped.exchange(true)) {
            return;
        }
    }
    // New connections are refused from now on; requests in flight run to completion.
    if (impl.listen_fd >= 0) {
        ::shutdown(impl.listen_fd, SHUT_RDWR);
    }
    if (impl.wake_fd >= 0) {
        uint64_t one = 1;
        [[maybe_unused]] auto ignored = ::write(impl.wake_fd, &one, sizeof one);
    }
    {
        std::lock_guard lock(impl.work_mutex); // a worker checks the flag under it
    }
    impl.work_ready.notify_all(); // idle workers end now rather than after worker_idle
}

size_t Server::busy_workers() const {
    std::lock_guard lock(m_impl->work_mutex);
    return m_impl->workers - m_impl->idle_workers;
}

size_t Server::worker_threads() const {
    std::lock_guard lock(m_impl->work_mutex);
    return m_impl->workers;
}

size_t Server::in_flight() const {
    std::lock_guard lock(m_impl->flight_mutex);
    return m_impl->active.size();
}

} // namespace aimo::proxy
