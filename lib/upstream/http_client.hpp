#pragma once

#include "core/headers.hpp"
#include "upstream/url.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace aimo::upstream {

/// How long to wait for an upstream: to connect (TCP and TLS), for the answer's headers
/// (`first_byte`; zero means the same as `read`), and for every gap between body bytes (`read`).
struct Timeouts {
    std::chrono::milliseconds connect{10'000};
    std::chrono::milliseconds read{300'000};
    std::chrono::milliseconds first_byte{0};
};

using core::Headers;

/// One outgoing request. Host and Content-Length are added by the client.
struct HttpRequest {
    std::string method = "GET";
    std::string target; ///< path and query, e.g. /api/v1/models
    Headers headers;
    std::string_view body;
};

class Connection;
class ClientPool;

/// Opens a connection to `url`'s origin within `connect_timeout`; throws core::Error when it
/// cannot. The pool's default makes a SocketConnection (TCP, TLS for https).
using Connector = std::function<std::unique_ptr<Connection>(
    const Url& url, std::chrono::milliseconds connect_timeout)>;

/// A response whose body is pulled piece by piece as the upstream sends it, so a proxy can
/// relay a stream without buffering it. When the body has been read to the end, the connection
/// goes back to the pool for reuse; dropping the response early closes it.
class HttpResponse {
public:
    HttpResponse(HttpResponse&& other) noexcept;
    HttpResponse& operator=(HttpResponse&&) = delete;
    ~HttpResponse();

    int status = 0;
    Headers headers;
    /// Microseconds from the request being sent to the response headers arriving.
    long long wait_us = 0;

    /// The first header named `name`, or nullptr.
    const std::string* header(std::string_view name) const { return headers.find(name); }
    /// Replaces `chunk` with the next body bytes available; false at the end of the body.
    /// Throws core::Error on timeout, reset or malformed framing.
    bool read(std::string& chunk);
    /// The rest of the body; throws core::Error(upstream_protocol) past `limit` bytes.
    std::string read_all(size_t limit);
    /// From now on read() throws core::Error(upstream_timeout) once `deadline` has passed.
    void set_deadline(std::chrono::steady_clock::time_point deadline) { m_deadline = deadline; }

private:
    friend class ClientPool;
    friend class PendingResponse;
    enum class Framing { none, length, chunked, until_close };
    HttpResponse() = default;
    bool fill();
    void finish();

    std::unique_ptr<Connection> m_conn;
    ClientPool* m_pool = nullptr;
    Framing m_framing = Framing::none;
    std::chrono::milliseconds m_read_timeout{};
    std::chrono::steady_clock::time_point m_deadline = std::chrono::steady_clock::time_point::max();
    size_t m_remaining = 0; ///< bytes left in the body (length) or current chunk (chunked)
    bool m_in_chunk = false;
    bool m_reusable = false;
    bool m_done = false;
    std::string m_label; ///< names the upstream in errors
};

/// A request that has been sent and whose answer has not arrived yet. Waiting can be split into
/// slices, so a caller can do other work (such as keeping its own client's connection alive)
/// between them. The URL and the request body must outlive it.
class PendingResponse {
public:
    PendingResponse(PendingResponse&&) noexcept;
    PendingResponse& operator=(PendingResponse&&) noexcept;
    ~PendingResponse();

    /// Waits up to `slice` for the response headers: the response once they are in, nullopt
    /// while still waiting. Throws core::Error as ClientPool::send does, upstream_timeout once the
    /// first-byte timeout has passed.
    std::optional<HttpResponse> wait(std::chrono::milliseconds slice);

private:
    friend class ClientPool;
    PendingResponse() = default;
    void send_on(std::unique_ptr<Connection> conn, bool reused);
    HttpResponse parse_head(size_t header_end);

    ClientPool* m_pool = nullptr;
    const Url* m_url = nullptr;
    Timeouts m_timeouts;
    std::string m_head; ///< request line, headers and (when small) the body
    std::string_view m_large_body;
    bool m_head_only = false; ///< HEAD: no response body whatever the headers say
    std::unique_ptr<Connection> m_conn;
    bool m_reused = false;
    bool m_resent = false;
    std::chrono::steady_clock::time_point m_sent_at;
};

/// Kept-alive HTTP/1.1 and HTTPS connections to any number of upstreams, shared by all threads.
/// A request on a pooled connection that the upstream had already closed is retried once on a
/// fresh one, so reuse is invisible to callers.
class ClientPool {
public:
    /// `connector` replaces real sockets (tests script upstreams with it); empty: sockets.
    explicit ClientPool(Timeouts timeouts = {}, std::string ca_file = {}, Connector connector = {});
    ~ClientPool();
    ClientPool(const ClientPool&) = delete;
    ClientPool& operator=(const ClientPool&) = delete;

    /// Sends `request` to `url`'s origin and returns once the response headers have arrived.
    /// Throws core::Error: upstream_unreachable (DNS, connect, TLS, reset), upstream_timeout,
    /// upstream_protocol (not HTTP).
    HttpResponse send(const Url& url, const HttpRequest& request);
    /// Same with per-call timeouts.
    HttpResponse send(const Url& url, const HttpRequest& request, const Timeouts& timeouts);
    /// Connects (or reuses a connection) and sends `request` without waiting for the answer.
    /// Throws core::Error when the upstream cannot be reached.
    PendingResponse start(const Url& url, const HttpRequest& request, const Timeouts& timeouts);

    /// New connections opened so far (reuse shows as this staying flat).
    size_t connections_opened() const { return m_opened.load(); }

private:
    friend class HttpResponse;
    friend class PendingResponse;
    std::unique_ptr<Connection> acquire(const Url& url, const Timeouts& timeouts, bool& reused);
    void release(std::unique_ptr<Connection> conn);

    Timeouts m_timeouts;
    Connector m_connector;
    void* m_tls = nullptr; // SSL_CTX*, created on first https use
    std::string m_ca_file;
    std::mutex m_mutex;
    std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> m_idle;
    std::atomic<size_t> m_opened{0};
};

/// A whole response, read to the end.
struct FetchedResponse {
    int status = 0;
    Headers headers; ///< names lower-cased
    std::string body;
    /// The first header named `name`, or nullptr.
    const std::string* header(std::string_view name) const { return headers.find(name); }
};

/// One GET of `target` on `url`'s origin over a connection of its own, body read up to `limit`
/// bytes. For checks and one-off look-ups; the proxy's hot path keeps a pool instead. Throws
/// core::Error as ClientPool::send does.
FetchedResponse fetch_once(const Url& url, const std::string& target, const Timeouts& timeouts,
                           const std::string& ca_file = {}, size_t limit = 64 * 1024 * 1024,
                           Headers headers = {});

} // namespace aimo::upstream
