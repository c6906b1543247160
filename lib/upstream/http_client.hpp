#pragma once

#include "upstream/url.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace aimo::upstream {

/// How long to wait for an upstream: to connect (TCP and TLS), and for bytes (the first byte
/// of the answer and every gap between later ones).
struct Timeouts {
    std::chrono::milliseconds connect{10'000};
    std::chrono::milliseconds read{300'000};
};

/// Header list in wire order; names of response headers are lower-cased.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// The first header named `name` (compared exactly; response names are lower-case), or nullptr.
const std::string* find_header(const Headers& headers, std::string_view name);

/// One outgoing request. Host and Content-Length are added by the client.
struct HttpRequest {
    std::string method = "GET";
    std::string target; ///< path and query, e.g. /api/v1/models
    Headers headers;
    std::string_view body;
};

class Connection;
class ClientPool;

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

    /// The first header named `name` (lower-case), or nullptr.
    const std::string* header(std::string_view name) const { return find_header(headers, name); }
    /// Replaces `chunk` with the next body bytes available; false at the end of the body.
    /// Throws core::Error on timeout, reset or malformed framing.
    bool read(std::string& chunk);
    /// The rest of the body; throws core::Error(upstream_protocol) past `limit` bytes.
    std::string read_all(size_t limit);

private:
    friend class ClientPool;
    enum class Framing { none, length, chunked, until_close };
    HttpResponse() = default;
    bool fill();
    void finish();

    std::unique_ptr<Connection> m_conn;
    ClientPool* m_pool = nullptr;
    Framing m_framing = Framing::none;
    std::chrono::milliseconds m_read_timeout{};
    size_t m_remaining = 0; ///< bytes left in the body (length) or current chunk (chunked)
    bool m_in_chunk = false;
    bool m_reusable = false;
    bool m_done = false;
    std::string m_label; ///< names the upstream in errors
};

/// Kept-alive HTTP/1.1 and HTTPS connections to any number of upstreams, shared by all threads.
/// A request on a pooled connection that the upstream had already closed is retried once on a
/// fresh one, so reuse is invisible to callers.
class ClientPool {
public:
    explicit ClientPool(Timeouts timeouts = {}, std::string ca_file = {});
    ~ClientPool();
    ClientPool(const ClientPool&) = delete;
    ClientPool& operator=(const ClientPool&) = delete;

    /// Sends `request` to `url`'s origin and returns once the response headers have arrived.
    /// Throws core::Error: upstream_unreachable (DNS, connect, TLS, reset), upstream_timeout,
    /// upstream_protocol (not HTTP).
    HttpResponse send(const Url& url, const HttpRequest& request);
    /// Same with per-call timeouts.
    HttpResponse send(const Url& url, const HttpRequest& request, const Timeouts& timeouts);

    /// New connections opened so far (reuse shows as this staying flat).
    size_t connections_opened() const { return m_opened.load(); }

private:
    friend class HttpResponse;
    std::unique_ptr<Connection> acquire(const Url& url, const Timeouts& timeouts, bool& reused);
    void release(std::unique_ptr<Connection> conn);

    Timeouts m_timeouts;
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
    /// The first header named `name` (lower-case), or nullptr.
    const std::string* header(std::string_view name) const { return find_header(headers, name); }
};

/// One GET of `target` on `url`'s origin over a connection of its own, body read up to `limit`
/// bytes. For checks and one-off look-ups; the proxy's hot path keeps a pool instead. Throws
/// core::Error as ClientPool::send does.
FetchedResponse fetch_once(const Url& url, const std::string& target, const Timeouts& timeouts,
                           const std::string& ca_file = {}, size_t limit = 64 * 1024 * 1024);

} // namespace aimo::upstream
