#include "proxy/server.hpp"

#include "core/error.hpp"
#include "crypto/siwx.hpp"
#include "openai/errors.hpp"
#include "proxy/client_socket.hpp"
#include "proxy/errors.hpp"
#include "proxy/http_parse.hpp"

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fmt/format.h>
#include <mutex>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <random>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <unordered_set>

namespace aimo::proxy {

// Why not cpp-httplib's server (the design card's first choice, and this file's until #12):
// Debian's build waits with select(), so a connection on a descriptor past 1023 gets a 500; it
// gives each request on a connection a fresh read buffer, so pipelined requests are dropped;
// it puts no limit on chunked or length-less bodies and skips a huge Content-Length by reading
// it; its read timeout restarts with every byte, so a slow client holds a thread forever; and
// every idle keep-alive connection holds a thread polling every millisecond. None of that is
// reachable from outside its private request loop, so aimo reads HTTP/1.1 itself
// (proxy/http_parse.cpp, tested and fuzzed on its own) and keeps httplib for test fakes.

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto sweep_interval = milliseconds(100);
constexpr size_t max_over_cap = 64; // refusals being answered at once past the cap
constexpr auto over_cap_timeout = milliseconds(1000);
constexpr auto worker_idle = std::chrono::seconds(30);
constexpr auto linger = milliseconds(100); // a worker waits this long for a quick next request

// Tags for the two descriptors in the epoll set that are not client connections.
char listen_tag;
char wake_tag;

std::string new_request_id() {
    thread_local std::mt19937_64 random{std::random_device{}()};
    std::string id = "req_0000000000000000"; // 16 hex digits, as fmt's {:016x} would print
    uint64_t value = random();
    for (size_t i = id.size(); value != 0; value >>= 4) {
        id[--i] = "0123456789abcdef"[value & 15];
    }
    return id;
}

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
} // namespace

struct Server::Impl : std::enable_shared_from_this<Impl> {
    Handler& handler;
    ServerOptions options;
    AccessLog access_log;
    int port = -1;
    int listen_fd = -1;
    int epoll_fd = -1;
    int wake_fd = -1;
    std::atomic<bool> stopped{false};
    bool accept_paused = false; // out of descriptors: the listener rests until the next sweep
    std::string keep_alive_header;

    // Connections waiting for a request. Each is in the epoll set with EPOLLONESHOT: once it
    // reports, only the poller touches it until it is parked again.
    std::mutex park_mutex;
    std::unordered_set<ClientSocket*> parked;
    std::atomic<size_t> open{0};          // client connections within the cap
    std::atomic<size_t> over_cap_open{0}; // connections being refused past it

    // Threads answering requests: one per request in progress, idle ones kept a while.
    std::mutex work_mutex;
    std::condition_variable work_ready;
    std::deque<std::unique_ptr<ClientSocket>> jobs;
    size_t workers = 0;
    size_t idle_workers = 0;

    // One request being answered; lives until its last byte was written (or it was cut off).
    struct Exchange {
        Impl& impl;
        int fd;
        AccessRecord record;
        std::shared_ptr<const LogFields> final_log;
        Clock::time_point start = Clock::now();
        std::mutex write_mutex; // a write is whole under it; the drain cut-off takes it too
        bool head_sent = false;
        bool sse = false;
        bool chunked = false;
        bool cut = false;

        Exchange(Impl& i, int client_fd) : impl(i), fd(client_fd) {
            record.time = impl.now_text();
            record.request_id = new_request_id();
            if (impl.options.metrics != nullptr) {
                impl.options.metrics->exchange_started();
            }
            std::lock_guard lock(impl.flight_mutex);
            impl.active.insert(this);
        }
        ~Exchange() {
            record.total_us =
                std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
            if (final_log) {
                record.fields = *final_log;
            }
            if (impl.options.metrics != nullptr) {
                impl.options.metrics->exchange_finished(record.status, record.total_us,
                                                        record.fields.overhead_us);
            }
            impl.access_log.write(record);
            std::lock_guard lock(impl.flight_mutex);
            impl.active.erase(this);
            if (impl.active.empty()) {
                impl.flight_done.notify_all();
            }
        }
        // Writes `data` unless the drain timeout cut this exchange off; false when it could not.
        bool write(std::string_view data) {
            std::lock_guard lock(write_mutex);
            if (cut) {
                return false;
            }
            head_sent = true;
            return send_all(fd, data, impl.options.write_timeout);
        }
    };
    mutable std::mutex flight_mutex;
    std::condition_variable flight_done;
    std::unordered_set<Exchange*> active;

    Impl(Handler& h, ServerOptions o)
        : handler(h), options(std::move(o)), access_log(options.log, options.log_format),
          keep_alive_header(
              fmt::format("Keep-Alive: timeout={}\r\n",
                          std::max<long long>(1, std::chrono::duration_cast<std::chrono::seconds>(
                                                     options.idle_timeout)
                                                     .count()))) {}

    ~Impl() {
        for (int fd : {listen_fd, epoll_fd, wake_fd}) {
            if (fd >= 0) {
                ::close(fd);
            }
        }
    }

    std::string now_text() const {
        return crypto::format_timestamp(options.clock ? options.clock()
                                                      : std::chrono::system_clock::now());
    }

    // ---- the poller ------------------------------------------------------------------------

    // Hands `client` to the poller to wait for its next request (or the rest of its head)
    // until its deadline, which the caller has set.
    void park(std::unique_ptr<ClientSocket> client) {
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

    // A connection waits for its next request: idle until its first byte, then its head has
    // header_timeout to arrive whole, however slowly the bytes come.
    void wait_for_request(std::unique_ptr<ClientSocket> client) {
        client->head_started = !client->buffer.empty();
        client->deadline =
            Clock::now() + (client->head_started ? options.header_timeout : options.idle_timeout);
        park(std::move(client));
    }

    void poll_loop() {
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

    void accept_clients() {
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

    // Reads what a parked connection sent; a complete head goes to a worker.
    void on_readable(ClientSocket* parked_client) {
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
                refuse(*client, {431, "request_header_fields_too_large",
                                 fmt::format("the request head is larger than {} KiB",
                                             max_head_bytes / 1024)});
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

    // Closes idle connections past the idle timeout; heads that did not arrive in time get 408.
    void sweep(Clock::time_point now) {
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

    // Answers from the poller thread, never waiting: a refusal or a health check, then close.
    void answer_now(ClientSocket& client, const std::string& method, const std::string& path,
                    Response response) {
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

    void refuse(ClientSocket& client, const HttpError& error) {
        auto [method, path] = request_line_parts(client.buffer);
        answer_now(
            client, method, path,
            error_response(error.status, error.message, "invalid_request_error", error.code));
    }

    // Past the connection cap /health still answers; everything else hears why not.
    void answer_over_cap(ClientSocket& client, size_t head_end) {
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

    // ---- workers -----------------------------------------------------------------------------

    void dispatch(std::unique_ptr<ClientSocket> client) {
        std::unique_lock lock(work_mutex);
        jobs.push_back(std::move(client));
        if (idle_workers >= jobs.size()) {
            work_ready.notify_one();
            return;
        }
        ++workers;
        lock.unlock();
        try {
            std::thread([self = shared_from_this()] { self->work(); }).detach();
        } catch (const std::system_error&) {
            // No thread to be had: the job waits for one that finishes.
            lock.lock();
            --workers;
        }
    }

    void work() {
        std::unique_lock lock(work_mutex);
        for (;;) {
            while (jobs.empty()) {
                ++idle_workers;
                bool woke =
                    work_ready.wait_for(lock, worker_idle, [this] { return !jobs.empty(); });
                --idle_workers;
                if (!woke) {
                    --workers;
                    return;
                }
            }
            auto client = std::move(jobs.front());
            jobs.pop_front();
            lock.unlock();
            serve_connection(std::move(client));
            lock.lock();
        }
    }

    // Answers the requests on `client` in order while they have arrived (a client that shut
    // its side still hears every answer); then it waits for the next one.
    void serve_connection(std::unique_ptr<ClientSocket> client) {
        for (;;) {
            client->buffer.erase(0, leading_blank_lines(client->buffer));
            size_t end = find_head_end(client->buffer);
            if (end == 0) {
                if (client->peer_closed || stopped) {
                    return;
                }
                if (client->buffer.size() > max_head_bytes) {
                    refuse(*client, {431, "request_header_fields_too_large",
                                     "the request head is too large"});
                    return;
                }
                // A client that sends its next request right after each answer (an agent
                // fanning out over one connection, a benchmark) is waited for here a moment:
                // handing it to the poller and back costs two thread switches per request.
                if (client->quick) {
                    client->quick = false; // once per request: a trickle goes to the poller
                    auto result = read_more(client->fd, client->buffer, Clock::now() + linger);
                    if (result == ReadResult::closed) {
                        return;
                    }
                    continue;
                }
                wait_for_request(std::move(client));
                return;
            }
            client->quick = Clock::now() - client->answered_at < linger;
            if (!serve_one(*client, end) || stopped) {
                return;
            }
            client->answered_at = Clock::now();
        }
    }

    // Reads the body `head` announces; an error to answer (status 0: the client went away).
    std::optional<HttpError> read_body(ClientSocket& client, const RequestHead& head,
                                       std::string& body) {
        if (head.body == RequestHead::Body::none) {
            return std::nullopt;
        }
        auto too_large = [&] {
            return HttpError{413, "request_too_large",
                             fmt::format("request body is larger than {} bytes; raise "
                                         "--max-body-bytes if this is intended",
                                         options.max_body_bytes)};
        };
        if (head.body == RequestHead::Body::length &&
            head.content_length > options.max_body_bytes) {
            return too_large(); // refused before a byte of it is read
        }
        auto deadline = Clock::now() + options.body_timeout;
        auto late = [&] {
            return HttpError{408, "request_timeout",
                             fmt::format("the request body did not arrive within {} s",
                                         options.body_timeout.count() / 1000.0)};
        };
        if (head.expect_continue && client.buffer.empty() &&
            !send_all(client.fd, "HTTP/1.1 100 Continue\r\n\r\n", options.write_timeout)) {
            return HttpError{0, "", ""};
        }
        if (head.body == RequestHead::Body::length) {
            auto length = static_cast<size_t>(head.content_length);
            body.swap(client.buffer);
            body.reserve(length);
            while (body.size() < length) {
                auto result = read_more(client.fd, body, deadline);
                if (result == ReadResult::closed) {
                    return HttpError{0, "", ""};
                }
                if (result == ReadResult::timeout) {
                    return late();
                }
            }
            if (body.size() > length) {
                client.buffer.assign(body, length); // the start of a pipelined request
                body.resize(length);
            }
            return std::nullopt;
        }
        ChunkedDecoder decoder(options.max_body_bytes);
        for (;;) {
            size_t used = 0;
            auto status = decoder.feed(client.buffer, body, used);
            client.buffer.erase(0, used);
            if (status == ChunkedDecoder::Status::done) {
                return std::nullopt;
            }
            if (status == ChunkedDecoder::Status::too_large) {
                return too_large();
            }
            if (status == ChunkedDecoder::Status::error) {
                return HttpError{400, "bad_request", "malformed chunked body: " + decoder.error()};
            }
            auto result = read_more(client.fd, client.buffer, deadline);
            if (result == ReadResult::closed) {
                return HttpError{0, "", ""};
            }
            if (result == ReadResult::timeout) {
                return late();
            }
        }
    }

    // Status line and headers. `keep_alive` false adds Connection: close.
    std::string response_head(const Response& response, const std::string& request_id,
                              int minor_version, bool keep_alive, bool chunked) const {
        std::string out;
        out.reserve(256 + response.headers.size() * 48);
        out.append("HTTP/1.1 ")
            .append(std::to_string(response.status))
            .append(" ")
            .append(status_reason(response.status))
            .append("\r\n");
        for (const auto& [name, value] : response.headers) {
            append_header(out, name, value);
        }
        append_header(out, "Content-Type", response.content_type);
        append_header(out, "x-request-id", request_id);
        if (chunked) {
            out.append("Transfer-Encoding: chunked\r\n");
        } else if (!response.stream) {
            out.append("Content-Length: ").append(std::to_string(response.body.size()));
            out.append("\r\n");
        }
        if (!keep_alive) {
            out.append("Connection: close\r\n");
        } else {
            if (minor_version == 0) {
                out.append("Connection: keep-alive\r\n");
            }
            out.append(keep_alive_header); // clients close before we do, not while reusing
        }
        out.append("\r\n");
        return out;
    }

    // Answers one request whose head ends at `head_end`; true when the connection stays open.
    bool serve_one(ClientSocket& client, size_t head_end) {
        Exchange exchange(*this, client.fd);
        auto& record = exchange.record;
        auto parsed = parse_request_head(std::string_view(client.buffer).substr(0, head_end));
        if (auto* error = std::get_if<HttpError>(&parsed)) {
            std::tie(record.method, record.path) = request_line_parts(client.buffer);
            client.buffer.clear(); // what follows a malformed head cannot be trusted
            answer_error(exchange, *error, 1);
            return false;
        }
        client.buffer.erase(0, head_end);
        auto& head = std::get<RequestHead>(parsed);
        record.method = head.method;
        record.path = head.path;
        std::string body;
        if (auto error = read_body(client, head, body)) {
            if (error->status == 0) {
                record.status = 499; // the client left before its request was whole
                record.aborted = true;
            } else {
                answer_error(exchange, *error, head.minor_version);
            }
            return false; // the rest of the connection's bytes cannot be framed
        }
        Request request;
        request.method = std::move(head.method);
        request.path = std::move(head.path);
        request.query = std::move(head.query);
        request.headers = std::move(head.headers);
        request.body = body;
        request.id = record.request_id;
        Response response;
        try {
            response = handler.handle(request);
        } catch (const std::exception& e) {
            response = error_response(500, std::string("internal error in aimo: ") + e.what(),
                                      "server_error", "internal_error");
        }
        bool keep_alive = head.keep_alive && !stopped;
        return respond(exchange, request.method == "HEAD", head.minor_version, keep_alive,
                       std::move(response)) &&
               keep_alive;
    }

    void answer_error(Exchange& exchange, const HttpError& error, int minor_version) {
        respond(exchange, false, minor_version, false,
                error_response(error.status, error.message, "invalid_request_error", error.code));
    }

    // Writes `response`; false when the client went away (or the drain cut it off).
    bool respond(Exchange& exchange, bool head_only, int minor_version, bool keep_alive,
                 Response response) {
        auto& record = exchange.record;
        record.status = response.status;
        record.fields = std::move(response.log);
        exchange.final_log = std::move(response.final_log);
        if (!response.stream) {
            std::string out =
                response_head(response, record.request_id, minor_version, keep_alive, false);
            if (!head_only) {
                out += response.body;
                record.bytes = response.body.size();
            }
            if (!exchange.write(out)) {
                record.aborted = true;
                return false;
            }
            return true;
        }
        // HTTP/1.0 has no chunked coding: there the end of the connection ends the body.
        bool chunked = minor_version == 1;
        exchange.chunked = chunked;
        exchange.sse = response.content_type.find("text/event-stream") != std::string::npos;
        if (!exchange.write(response_head(response, record.request_id, minor_version,
                                          keep_alive && chunked, chunked))) {
            record.aborted = true;
            return false;
        }
        std::string chunk;
        for (;;) {
            bool more = false;
            try {
                more = response.stream(chunk);
            } catch (const std::exception&) {
                record.aborted = true;
                return false;
            }
            if (!more) {
                break;
            }
            if (chunk.empty() || head_only) {
                continue;
            }
            if (!exchange.write(chunked ? chunk_frame(chunk) : chunk)) {
                record.aborted = true;
                return false;
            }
            record.bytes += chunk.size();
        }
        if (chunked && !head_only && !exchange.write("0\r\n\r\n")) {
            record.aborted = true;
            return false;
        }
        return chunked;
    }

    // At the drain timeout: every exchange still running hears why it ends, in its own terms —
    // a 503 when nothing was sent yet, an SSE error event in a stream — and is closed.
    void cut_off_in_flight() {
        std::string message = fmt::format(
            "aimo is shutting down and its drain timeout ({} s) has passed; retry the request",
            options.drain_timeout.count());
        std::string json = openai::error_json(message, "server_error", "server_shutting_down");
        std::lock_guard lock(flight_mutex);
        for (auto* exchange : active) {
            std::unique_lock write(exchange->write_mutex, std::defer_lock);
            // A write in progress keeps its lock; one to a client that does not read keeps it
            // long, and that exchange is only closed.
            if (!write.try_lock()) {
                std::this_thread::sleep_for(milliseconds(1));
                write.try_lock();
            }
            if (write.owns_lock() && !exchange->cut) {
                std::string out;
                if (!exchange->head_sent) {
                    Response response =
                        error_response(503, message, "server_error", "server_shutting_down");
                    out = response_head(response, exchange->record.request_id, 1, false, false) +
                          response.body;
                } else if (exchange->sse && exchange->chunked) {
                    out = chunk_frame("data: " + json + "\n\n") + "0\r\n\r\n";
                } else if (exchange->sse) {
                    out = "data: " + json + "\n\n";
                }
                send_all(exchange->fd, out, milliseconds(200));
            }
            exchange->cut = true;
            ::shutdown(exchange->fd, SHUT_RDWR);
        }
    }
};

Server::Server(Handler& handler, ServerOptions options)
    : m_impl(std::make_shared<Impl>(handler, std::move(options))) {}

Server::~Server() {
    stop();
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
}

size_t Server::in_flight() const {
    std::lock_guard lock(m_impl->flight_mutex);
    return m_impl->active.size();
}

} // namespace aimo::proxy
