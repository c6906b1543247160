#include "proxy/errors.hpp"
#include "proxy/server_impl.hpp"

#include <cerrno>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace aimo::proxy {

using namespace server_detail;

void Server::Impl::park(std::unique_ptr<ClientSocket> client) {
    std::lock_guard lock(park_mutex);
    if (stopped) {
        return; // closes it: no new requests while draining
    }
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    event.data.ptr = client.get();
    // Under the lock: the poller deletes parked connections under it, so the descriptor
    // cannot be closed (and reused) between here and epoll_ctl.
    int op = client->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (::epoll_ctl(epoll_fd, op, client->fd, &event) != 0) {
        return;
    }
    client->registered = true;
    parked.insert(client.release());
}

void Server::Impl::wait_for_request(std::unique_ptr<ClientSocket> client) {
    client->head_started = !client->buffer.empty();
    client->deadline =
        Clock::now() + (client->head_started ? options.header_timeout : options.idle_timeout);
    park(std::move(client));
}

void Server::Impl::poll_loop() {
    epoll_event events[256];
    auto next_sweep = Clock::now() + sweep_interval;
    while (!stopped) {
        auto wait = std::chrono::duration_cast<milliseconds>(next_sweep - Clock::now());
        int n = ::epoll_wait(epoll_fd, events, 256,
                             static_cast<int>(std::max<long long>(0, wait.count())));
        for (int i = 0; i < n && !stopped; ++i) {
            void* tag = events[i].data.ptr;
            if (tag == &listen_tag) {
                accept_clients();
            } else if (tag == &wake_tag) {
                uint64_t count = 0;
                [[maybe_unused]] auto ignored = ::read(wake_fd, &count, sizeof count);
            } else {
                on_readable(static_cast<ClientSocket*>(tag));
            }
        }
        auto now = Clock::now();
        if (now >= next_sweep) {
            sweep(now);
            next_sweep = now + sweep_interval;
        }
    }
    // Stopped: idle keep-alive connections and heads still arriving are sent away.
    std::lock_guard lock(park_mutex);
    for (auto* client : parked) {
        delete client;
    }
    parked.clear();
}

void Server::Impl::accept_clients() {
    for (;;) {
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno == EMFILE || errno == ENFILE) {
                // No descriptor left to answer with: the connection waits in the backlog
                // and the listener rests until the next sweep instead of waking us in a
                // loop.
                ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
                accept_paused = true;
            }
            return; // EAGAIN: every pending connection is taken
        }
        int yes = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        std::unique_ptr<ClientSocket> client;
        if (open.load() < options.max_connections) {
            ++open;
            client = std::make_unique<ClientSocket>(fd, &open);
        } else if (over_cap_open.load() < max_over_cap) {
            ++over_cap_open;
            client = std::make_unique<ClientSocket>(fd, &over_cap_open);
            client->over_cap = true;
            client->deadline = Clock::now() + over_cap_timeout;
        } else {
            ::close(fd); // far past the cap: not even an answer
            continue;
        }
        if (client->over_cap) {
            park(std::move(client));
        } else {
            wait_for_request(std::move(client));
        }
    }
}

void Server::Impl::on_readable(ClientSocket* parked_client) {
    {
        std::lock_guard lock(park_mutex);
        if (parked.erase(parked_client) == 0) {
            return;
        }
    }
    std::unique_ptr<ClientSocket> client(parked_client);
    bool open_side = read_available(client->fd, client->buffer, max_head_bytes + 1);
    client->buffer.erase(0, leading_blank_lines(client->buffer));
    if (!client->head_started && !client->buffer.empty() && !client->over_cap) {
        client->head_started = true;
        client->deadline = Clock::now() + options.header_timeout;
    }
    size_t end = find_head_end(client->buffer);
    if (end == 0) {
        if (!open_side) {
            return; // gone before finishing a request: nothing to answer
        }
        if (client->buffer.size() > max_head_bytes) {
            refuse(*client,
                   {431, "request_header_fields_too_large",
                    fmt::format("the request head is larger than {} KiB", max_head_bytes / 1024)});
            return;
        }
        park(std::move(client));
        return;
    }
    client->peer_closed = !open_side;
    if (client->over_cap) {
        answer_over_cap(*client, end);
        return;
    }
    dispatch(std::move(client));
}

void Server::Impl::sweep(Clock::time_point now) {
    std::vector<std::unique_ptr<ClientSocket>> expired;
    {
        std::lock_guard lock(park_mutex);
        for (auto it = parked.begin(); it != parked.end();) {
            if ((*it)->deadline <= now) {
                expired.emplace_back(*it);
                it = parked.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& client : expired) {
        if (client->head_started && !client->over_cap) {
            refuse(*client, {408, "request_timeout",
                             fmt::format("the request head did not arrive within {} s",
                                         options.header_timeout.count() / 1000.0)});
        }
    }
    if (accept_paused) {
        accept_paused = false;
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.ptr = &listen_tag;
        ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &event);
    }
}

void Server::Impl::answer_now(ClientSocket& client, const std::string& method,
                              const std::string& path, Response response) {
    AccessRecord record;
    record.time = now_text();
    record.request_id = new_request_id();
    record.method = method;
    record.path = path;
    record.status = response.status;
    record.bytes = response.body.size();
    std::string out = response_head(response, record.request_id, 1, false, false);
    if (method != "HEAD") {
        out += response.body;
    }
    send_all(client.fd, out, milliseconds(0));
    if (options.metrics != nullptr) {
        options.metrics->exchange_started();
        options.metrics->exchange_finished(record.status, 0, 0);
    }
    access_log.write(record);
}

void Server::Impl::refuse(ClientSocket& client, const HttpError& error) {
    auto [method, path] = request_line_parts(client.buffer);
    answer_now(client, method, path,
               error_response(error.status, error.message, "invalid_request_error", error.code));
}

void Server::Impl::answer_over_cap(ClientSocket& client, size_t head_end) {
    auto parsed = parse_request_head(std::string_view(client.buffer).substr(0, head_end));
    auto* head = std::get_if<RequestHead>(&parsed);
    if (head != nullptr && head->path == "/health" &&
        (head->method == "GET" || head->method == "HEAD")) {
        Request request;
        request.method = head->method;
        request.path = head->path;
        answer_now(client, head->method, head->path, handler.handle(request));
        return;
    }
    auto [method, path] = request_line_parts(client.buffer);
    auto response = error_response(
        503,
        fmt::format("aimo is at its limit of {} open connections; retry shortly, or raise "
                    "--max-connections",
                    options.max_connections),
        "server_error", "too_many_connections");
    response.headers.add("Retry-After", "1");
    answer_now(client, method, path, std::move(response));
}

} // namespace aimo::proxy
