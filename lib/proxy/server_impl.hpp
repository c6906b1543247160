#pragma once

// Internals of proxy::Server, shared by its three files: server.cpp (listening, start, stop),
// server_poller.cpp (the connections waiting for a request) and server_exchange.cpp (answering
// one request on a worker).

#include "crypto/siwx.hpp"
#include "proxy/access_log.hpp"
#include "proxy/client_socket.hpp"
#include "proxy/http_parse.hpp"
#include "proxy/server.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fmt/format.h>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unistd.h>
#include <unordered_set>
#include <utility>

namespace aimo::proxy {

namespace server_detail {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline constexpr auto sweep_interval = milliseconds(100);
inline constexpr size_t max_over_cap = 64; // refusals being answered at once past the cap
inline constexpr auto over_cap_timeout = milliseconds(1000);
inline constexpr auto worker_idle = std::chrono::seconds(30);
inline constexpr auto linger =
    milliseconds(100); // a worker waits this long for a quick next request

// Tags for the two descriptors in the epoll set that are not client connections.
inline char listen_tag;
inline char wake_tag;

/// A fresh x-request-id: "req_" and 16 hex digits.
std::string new_request_id();
/// Appends "name: value\r\n" unless either holds a byte that would end the line or smuggle
/// another one in.
void append_header(std::string& out, std::string_view name, std::string_view value);
/// `data` as one chunk of a chunked body.
std::string chunk_frame(std::string_view data);
/// The method and target of a head's request line, for the access log of a request refused
/// before it could be parsed ("-" for what is missing).
std::pair<std::string, std::string> request_line_parts(std::string_view head);
} // namespace server_detail

struct Server::Impl : std::enable_shared_from_this<Impl> {
    using Clock = server_detail::Clock;
    using milliseconds = server_detail::milliseconds;
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
    std::condition_variable workers_gone; // a worker ended (the destructor waits for all)
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
            record.request_id = server_detail::new_request_id();
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
    void park(std::unique_ptr<ClientSocket> client);

    // A connection waits for its next request: idle until its first byte, then its head has
    // header_timeout to arrive whole, however slowly the bytes come.
    void wait_for_request(std::unique_ptr<ClientSocket> client);

    void poll_loop();

    void accept_clients();

    // Reads what a parked connection sent; a complete head goes to a worker.
    void on_readable(ClientSocket* parked_client);

    // Closes idle connections past the idle timeout; heads that did not arrive in time get 408.
    void sweep(Clock::time_point now);

    // Answers from the poller thread, never waiting: a refusal or a health check, then close.
    void answer_now(ClientSocket& client, const std::string& method, const std::string& path,
                    Response response);

    void refuse(ClientSocket& client, const HttpError& error);

    // Past the connection cap /health still answers; everything else hears why not.
    void answer_over_cap(ClientSocket& client, size_t head_end);

    // ---- workers -----------------------------------------------------------------------------

    void dispatch(std::unique_ptr<ClientSocket> client);

    void work();

    // Answers the requests on `client` in order while they have arrived (a client that shut
    // its side still hears every answer); then it waits for the next one.
    void serve_connection(std::unique_ptr<ClientSocket> client);

    // Reads the body `head` announces; an error to answer (status 0: the client went away).
    std::optional<HttpError> read_body(ClientSocket& client, const RequestHead& head,
                                       std::string& body);

    // Status line and headers. `keep_alive` false adds Connection: close.
    std::string response_head(const Response& response, const std::string& request_id,
                              int minor_version, bool keep_alive, bool chunked) const;

    // Answers one request whose head ends at `head_end`; true when the connection stays open.
    bool serve_one(ClientSocket& client, size_t head_end);

    void answer_error(Exchange& exchange, const HttpError& error, int minor_version);

    // Writes `response`; false when the client went away (or the drain cut it off).
    bool respond(Exchange& exchange, bool head_only, int minor_version, bool keep_alive,
                 Response response);

    // At the drain timeout: every exchange still running hears why it ends, in its own terms —
    // a 503 when nothing was sent yet, an SSE error event in a stream — and is closed.
    void cut_off_in_flight();
};

} // namespace aimo::proxy
