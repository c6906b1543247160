#include "proxy/server.hpp"

#include "core/error.hpp"
#include "crypto/siwx.hpp"
#include "proxy/errors.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fmt/format.h>
#include <httplib.h>
#include <mutex>
#include <random>
#include <thread>

namespace aimo::proxy {

namespace {
using Clock = std::chrono::steady_clock;

// A thread per connection, with finished threads kept a while for the next connection.
// httplib's fixed pool would let N long streams (or N idle keep-alive clients) starve everyone
// else. The shared state outlives the queue object, which httplib deletes while connections
// may still be open.
class ElasticQueue : public httplib::TaskQueue {
public:
    struct State {
        std::mutex mutex;
        std::condition_variable ready;
        std::deque<std::function<void()>> jobs;
        size_t idle = 0;
        size_t threads = 0;
        bool stopping = false;
    };

    static constexpr size_t max_threads = 8192;

    explicit ElasticQueue(std::shared_ptr<State> state) : m_state(std::move(state)) {}

    void enqueue(std::function<void()> fn) override {
        std::unique_lock lock(m_state->mutex);
        m_state->jobs.push_back(std::move(fn));
        // Past the cap, connections wait for a thread instead of exhausting the process.
        if (m_state->idle >= m_state->jobs.size() || m_state->threads >= max_threads) {
            m_state->ready.notify_one();
            return;
        }
        ++m_state->threads;
        lock.unlock();
        std::thread(work, m_state).detach();
    }

    void shutdown() override {
        std::lock_guard lock(m_state->mutex);
        m_state->stopping = true;
        m_state->ready.notify_all();
    }

private:
    static void work(std::shared_ptr<State> state) {
        std::unique_lock lock(state->mutex);
        for (;;) {
            while (state->jobs.empty()) {
                if (state->stopping) {
                    --state->threads;
                    return;
                }
                ++state->idle;
                bool woke = state->ready.wait_for(lock, std::chrono::seconds(30), [&] {
                    return !state->jobs.empty() || state->stopping;
                });
                --state->idle;
                if (!woke) {
                    --state->threads;
                    return;
                }
            }
            auto job = std::move(state->jobs.front());
            state->jobs.pop_front();
            lock.unlock();
            job();
            lock.lock();
        }
    }

    std::shared_ptr<State> m_state;
};

bool has_line_break(std::string_view text) {
    // Two memchr scans; find_first_of would call memchr once per character.
    return text.find('\r') != std::string_view::npos || text.find('\n') != std::string_view::npos;
}

// The order of httplib's header map (tolower in the C locale, bytes compared unsigned).
unsigned char ascii_lower(char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 'A' && u <= 'Z' ? static_cast<unsigned char>(u - 'A' + 'a') : u;
}

bool ci_less(const std::string& a, const std::string& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return ascii_lower(x) < ascii_lower(y);
    });
}

// Moves `headers` into httplib's map. That map orders names case-insensitively through libc's
// tolower, one call per character, at every level of the tree; given names already in its
// order, each insertion at the end costs a single comparison instead.
void move_headers(proxy::Headers& headers, httplib::Headers& out) {
    // A stable insertion sort of pointers: a dozen headers, no strings moved twice.
    std::vector<std::pair<std::string, std::string>*> order;
    order.reserve(headers.size());
    for (auto& header : headers) {
        auto at = order.end();
        while (at != order.begin() && ci_less(header.first, (*(at - 1))->first)) {
            --at;
        }
        order.insert(at, &header);
    }
    for (auto* header : order) {
        // set_header() would copy both strings; the same CR/LF guard, without the copies.
        if (!has_line_break(header->first) && !has_line_break(header->second)) {
            out.emplace_hint(out.end(), std::move(header->first), std::move(header->second));
        }
    }
}

std::string new_request_id() {
    thread_local std::mt19937_64 random{std::random_device{}()};
    std::string id = "req_0000000000000000"; // 16 hex digits, as fmt's {:016x} would print
    uint64_t value = random();
    for (size_t i = id.size(); value != 0; value >>= 4) {
        id[--i] = "0123456789abcdef"[value & 15];
    }
    return id;
}
} // namespace

struct Server::Impl {
    Handler& handler;
    ServerOptions options;
    httplib::Server* http = new httplib::Server();
    std::shared_ptr<ElasticQueue::State> threads = std::make_shared<ElasticQueue::State>();
    int port = -1;
    int listen_fd = -1;
    std::atomic<bool> stopped{false};

    mutable std::mutex flight_mutex;
    std::condition_variable flight_done;
    size_t in_flight = 0;
    AccessLog access_log;

    Impl(Handler& h, ServerOptions o)
        : handler(h), options(std::move(o)), access_log(options.log, options.log_format) {}

    void log(const AccessRecord& record) { access_log.write(record); }

    std::string now_text() const {
        return crypto::format_timestamp(options.clock ? options.clock()
                                                      : std::chrono::system_clock::now());
    }

    // Lives as long as the response is being written; logs and leaves the in-flight count when
    // the last byte has gone (or the connection was cut).
    struct Exchange {
        Impl& impl;
        AccessRecord record;
        std::shared_ptr<const LogFields> final_log;
        Clock::time_point start;
        Exchange(Impl& i, Clock::time_point s) : impl(i), start(s) {
            if (impl.options.metrics != nullptr) {
                impl.options.metrics->exchange_started();
            }
            std::lock_guard lock(impl.flight_mutex);
            ++impl.in_flight;
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
            impl.log(record);
            std::lock_guard lock(impl.flight_mutex);
            if (--impl.in_flight == 0) {
                impl.flight_done.notify_all();
            }
        }
    };

    void serve(const httplib::Request& req, httplib::Response& res) {
        auto exchange = std::make_shared<Exchange>(*this, Clock::now());
        auto& record = exchange->record;
        record.time = now_text();
        record.request_id = new_request_id();
        record.method = req.method;
        record.path = req.path;

        Request request;
        request.method = req.method;
        request.path = req.path;
        if (auto q = req.target.find('?'); q != std::string::npos) {
            request.query = req.target.substr(q + 1);
        }
        request.headers.reserve(req.headers.size());
        for (const auto& [name, value] : req.headers) {
            if (name != "REMOTE_ADDR" && name != "REMOTE_PORT" && name != "LOCAL_ADDR" &&
                name != "LOCAL_PORT") {
                request.headers.emplace_back(name, value);
            }
        }
        request.body = req.body;
        request.id = record.request_id;

        Response response = handler.handle(request);
        record.status = response.status;
        record.fields = response.log;
        exchange->final_log = std::move(response.final_log);
        res.status = response.status;
        response.headers.emplace_back("x-request-id", record.request_id);
        move_headers(response.headers, res.headers);
        if (stopped) {
            res.set_header("Connection", "close"); // draining: send keep-alive clients away
        }

        if (response.stream) {
            res.set_chunked_content_provider(
                response.content_type,
                [exchange, stream = std::move(response.stream)](size_t, httplib::DataSink& sink) {
                    std::string chunk;
                    try {
                        if (!stream(chunk)) {
                            sink.done();
                            return true;
                        }
                    } catch (const std::exception&) {
                        exchange->record.aborted = true;
                        return false;
                    }
                    if (chunk.empty()) {
                        return true;
                    }
                    if (!sink.write(chunk.data(), chunk.size())) {
                        exchange->record.aborted = true;
                        return false;
                    }
                    exchange->record.bytes += chunk.size();
                    return true;
                });
            return;
        }
        record.bytes = response.body.size();
        if (response.body.empty()) {
            res.set_content("", response.content_type);
            return;
        }
        auto body = std::make_shared<std::string>(std::move(response.body));
        res.set_content_provider(
            body->size(), response.content_type,
            [exchange, body](size_t offset, size_t length, httplib::DataSink& sink) {
                if (!sink.write(body->data() + offset, length)) {
                    exchange->record.aborted = true;
                    return false;
                }
                return true;
            });
    }

    // Errors httplib raises before our handler runs (malformed HTTP, body too large).
    httplib::Server::HandlerResponse on_error(const httplib::Request& req, httplib::Response& res) {
        if (res.has_header("x-request-id")) {
            return httplib::Server::HandlerResponse::Unhandled; // already ours
        }
        std::string body;
        if (res.status == 413) {
            body = error_json(fmt::format("request body is larger than {} bytes; raise "
                                          "--max-body-bytes if this is intended",
                                          options.max_body_bytes),
                              "invalid_request_error", "request_too_large");
        } else {
            body = error_json(fmt::format("malformed HTTP request (status {})", res.status),
                              "invalid_request_error", "bad_request");
        }
        AccessRecord record;
        record.time = now_text();
        record.request_id = new_request_id();
        record.method = req.method.empty() ? "-" : req.method;
        record.path = req.path.empty() ? "-" : req.path;
        record.status = res.status;
        record.bytes = body.size();
        res.set_header("x-request-id", record.request_id);
        res.set_content(body, "application/json");
        log(record);
        return httplib::Server::HandlerResponse::Handled;
    }
};

Server::Server(Handler& handler, ServerOptions options)
    : m_impl(std::make_unique<Impl>(handler, std::move(options))) {
    auto& http = *m_impl->http;
    Impl* impl = m_impl.get();
    http.new_task_queue = [state = impl->threads] { return new ElasticQueue(state); };
    http.set_tcp_nodelay(true);
    http.set_keep_alive_max_count(100000);
    http.set_keep_alive_timeout(5);
    http.set_read_timeout(30);
    http.set_write_timeout(30);
    http.set_payload_max_length(impl->options.max_body_bytes);
    // No SO_REUSEPORT: a second aimo on the same port must fail, not silently share it.
    // The socket is remembered so bind() can raise httplib's compiled-in backlog of 5.
    http.set_socket_options([impl](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        impl->listen_fd = sock;
    });
    auto route = [impl](const httplib::Request& req, httplib::Response& res) {
        impl->serve(req, res);
    };
    for (auto method :
         {&httplib::Server::Get, &httplib::Server::Post, &httplib::Server::Put,
          &httplib::Server::Delete, &httplib::Server::Patch, &httplib::Server::Options}) {
        (http.*method)(".*", route);
    }
    http.set_error_handler(httplib::Server::HandlerWithResponse(
        [impl](const httplib::Request& req, httplib::Response& res) {
            return impl->on_error(req, res);
        }));
    http.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
            std::string what = "unknown error";
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            res.status = 500;
            res.set_header("x-request-id", new_request_id());
            res.set_content(
                error_json("internal error in aimo: " + what, "server_error", "internal_error"),
                "application/json");
        });
}

Server::~Server() {
    stop();
    bool busy = false;
    {
        std::lock_guard lock(m_impl->threads->mutex);
        busy = m_impl->threads->threads > m_impl->threads->idle;
    }
    // A connection idling in keep-alive can still hand a request to the handlers until its
    // keep-alive timeout; rather than race it, leave everything to the exiting process.
    if (busy) {
        m_impl.release();
    } else {
        delete m_impl->http;
    }
}

int Server::bind() {
    auto& options = m_impl->options;
    int port = options.port == 0
                   ? m_impl->http->bind_to_any_port(options.host)
                   : (m_impl->http->bind_to_port(options.host, options.port) ? options.port : -1);
    if (port < 0) {
        int err = errno;
        bool in_use = err == EADDRINUSE;
        throw core::Error(
            core::ErrorKind::io,
            fmt::format("cannot listen on {}:{}: {}", options.host, options.port,
                        in_use ? "the port is already in use" : std::strerror(err)),
            in_use ? fmt::format("another aimo may already be running (try 'curl "
                                 "http://{}:{}/health'); pick another port with --port, or "
                                 "--port 0 for a free one",
                                 options.host, options.port)
                   : "check --host; it must be an address of this machine");
    }
    // A burst of clients (agents opening many streams at once) must not have SYNs dropped.
    ::listen(m_impl->listen_fd, 4096);
    m_impl->port = port;
    return port;
}

bool Server::run() {
    if (m_impl->port < 0) {
        bind();
    }
    if (!m_impl->stopped) {
        m_impl->http->listen_after_bind();
    }
    std::unique_lock lock(m_impl->flight_mutex);
    bool drained = m_impl->flight_done.wait_for(lock, m_impl->options.drain_timeout,
                                                [&] { return m_impl->in_flight == 0; });
    lock.unlock();
    m_impl->access_log.flush();
    return drained;
}

void Server::stop() {
    if (m_impl->stopped.exchange(true) || m_impl->listen_fd < 0) {
        return;
    }
    // Not httplib's stop(): that also ends every chunked response in flight, cutting streams.
    // Shutting the listening socket down fails httplib's accept(), so its loop ends and new
    // connections are refused, while requests in flight run to completion.
    ::shutdown(m_impl->listen_fd, SHUT_RDWR);
}

size_t Server::in_flight() const {
    std::lock_guard lock(m_impl->flight_mutex);
    return m_impl->in_flight;
}

} // namespace aimo::proxy
