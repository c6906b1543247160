#include "upstream/http_client.hpp"

#include "core/error.hpp"
#include "core/text.hpp"
#include "upstream/connection.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <openssl/ssl.h>

namespace aimo::upstream {

using core::Error;
using core::ErrorKind;

namespace {
constexpr size_t max_header_bytes = 64 * 1024;
constexpr size_t max_idle_per_origin = 512;
constexpr auto max_idle_age = std::chrono::seconds(30);

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
        text.remove_prefix(1);
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
        text.remove_suffix(1);
    }
    return text;
}

Error protocol_error(const std::string& label, std::string_view what) {
    return Error(ErrorKind::upstream_protocol,
                 fmt::format("{} sent an invalid HTTP response: {}", label, what),
                 "check that the URL points at an OpenAI-compatible HTTP server");
}

bool contains_token(std::string_view list, std::string_view token) {
    return core::to_lower(list).find(token) != std::string::npos;
}
} // namespace

// ---- HttpResponse ----------------------------------------------------------------------

HttpResponse::HttpResponse(HttpResponse&& other) noexcept
    : status(other.status), headers(std::move(other.headers)), wait_us(other.wait_us),
      m_conn(std::move(other.m_conn)), m_pool(other.m_pool), m_framing(other.m_framing),
      m_read_timeout(other.m_read_timeout), m_deadline(other.m_deadline),
      m_remaining(other.m_remaining), m_in_chunk(other.m_in_chunk), m_reusable(other.m_reusable),
      m_done(other.m_done), m_label(std::move(other.m_label)) {}

HttpResponse::~HttpResponse() = default;

bool HttpResponse::fill() {
    if (m_deadline == std::chrono::steady_clock::time_point::max()) {
        return m_conn->read_more(m_read_timeout);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        m_deadline - std::chrono::steady_clock::now());
    if (left >= m_read_timeout) {
        return m_conn->read_more(m_read_timeout);
    }
    if (left.count() > 0) {
        if (auto more = m_conn->read_some(left)) {
            return *more;
        }
    }
    m_reusable = false;
    throw Error(ErrorKind::upstream_timeout,
                fmt::format("{} did not finish its answer within the total timeout", m_label),
                "raise the provider's total_timeout if answers this long are expected");
}

void HttpResponse::finish() {
    m_done = true;
    if (m_reusable && m_conn && m_conn->buffer().empty()) {
        m_pool->release(std::move(m_conn));
    }
    m_conn.reset();
}

bool HttpResponse::read(std::string& chunk) {
    chunk.clear();
    if (m_done) {
        return false;
    }
    auto& buffer = m_conn->buffer();
    switch (m_framing) {
    case Framing::none:
        finish();
        return false;
    case Framing::until_close:
        if (buffer.empty() && !fill()) {
            finish();
            return false;
        }
        chunk.swap(buffer);
        return true;
    case Framing::length:
        if (m_remaining == 0) {
            finish();
            return false;
        }
        if (buffer.empty() && !fill()) {
            throw Error(ErrorKind::upstream_unreachable,
                        fmt::format("{} closed the connection with {} bytes of the body unsent",
                                    m_label, m_remaining));
        }
        if (buffer.size() <= m_remaining) {
            chunk.swap(buffer);
        } else {
            chunk.assign(buffer, 0, m_remaining);
            buffer.erase(0, m_remaining);
        }
        m_remaining -= chunk.size();
        return true;
    case Framing::chunked:
        for (;;) {
            if (m_in_chunk) {
                if (m_remaining > 0) {
                    if (buffer.empty() && !fill()) {
                        throw Error(ErrorKind::upstream_unreachable,
                                    fmt::format("{} closed the connection mid-chunk", m_label));
                    }
                    size_t take = std::min(m_remaining, buffer.size());
                    chunk.assign(buffer, 0, take);
                    buffer.erase(0, take);
                    m_remaining -= take;
                    return true;
                }
                while (buffer.size() < 2) {
                    if (!fill()) {
                        throw Error(ErrorKind::upstream_unreachable,
                                    fmt::format("{} closed the connection mid-chunk", m_label));
                    }
                }
                if (buffer.compare(0, 2, "\r\n") != 0) {
                    throw protocol_error(m_label, "chunk not followed by CRLF");
                }
                buffer.erase(0, 2);
                m_in_chunk = false;
            }
            size_t eol;
            while ((eol = buffer.find("\r\n")) == std::string::npos) {
                if (buffer.size() > 1024) {
                    throw protocol_error(m_label, "chunk size line too long");
                }
                if (!fill()) {
                    throw Error(
                        ErrorKind::upstream_unreachable,
                        fmt::format("{} closed the connection before the last chunk", m_label));
                }
            }
            std::string_view line(buffer.data(), eol);
            line = line.substr(0, line.find(';'));
            line = trim(line);
            size_t size = 0;
            auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), size, 16);
            if (ec != std::errc() || ptr != line.data() + line.size()) {
                throw protocol_error(m_label, "bad chunk size");
            }
            buffer.erase(0, eol + 2);
            if (size == 0) {
                // Trailers end with an empty line.
                for (;;) {
                    while ((eol = buffer.find("\r\n")) == std::string::npos) {
                        if (!fill()) {
                            finish();
                            return false;
                        }
                    }
                    bool empty_line = eol == 0;
                    buffer.erase(0, eol + 2);
                    if (empty_line) {
                        finish();
                        return false;
                    }
                }
            }
            m_in_chunk = true;
            m_remaining = size;
        }
    }
    return false;
}

std::string HttpResponse::read_all(size_t limit) {
    std::string body;
    std::string chunk;
    while (read(chunk)) {
        if (body.size() + chunk.size() > limit) {
            throw Error(ErrorKind::upstream_protocol,
                        fmt::format("{} sent a body larger than {} bytes", m_label, limit));
        }
        body += chunk;
    }
    return body;
}

// ---- fetch_once -----------------------------------------------------------------------

FetchedResponse fetch_once(const Url& url, const std::string& target, const Timeouts& timeouts,
                           const std::string& ca_file, size_t limit, Headers headers) {
    ClientPool pool(timeouts, ca_file);
    HttpRequest request;
    request.target = target;
    request.headers = std::move(headers);
    auto response = pool.send(url, request);
    FetchedResponse fetched;
    fetched.body = response.read_all(limit);
    fetched.status = response.status;
    fetched.headers = std::move(response.headers);
    return fetched;
}

// ---- ClientPool ------------------------------------------------------------------------

ClientPool::ClientPool(Timeouts timeouts, std::string ca_file, Connector connector)
    : m_timeouts(timeouts), m_connector(std::move(connector)), m_ca_file(std::move(ca_file)) {}

ClientPool::~ClientPool() {
    m_idle.clear();
    if (m_tls != nullptr) {
        SSL_CTX_free(static_cast<SSL_CTX*>(m_tls));
    }
}

std::unique_ptr<Connection> ClientPool::acquire(const Url& url, const Timeouts& timeouts,
                                                bool& reused) {
    auto origin = url.origin();
    {
        std::lock_guard lock(m_mutex);
        auto now = std::chrono::steady_clock::now();
        auto& idle = m_idle[origin];
        while (!idle.empty()) {
            auto conn = std::move(idle.back());
            idle.pop_back();
            auto idle_for = now - conn->idle_since;
            // A stale connection is retried safely in send(), so only connections idle long
            // enough to have met an upstream's keep-alive timeout pay for a liveness check.
            if (idle_for < max_idle_age &&
                (idle_for < std::chrono::seconds(1) || conn->idle_and_open())) {
                reused = true;
                return conn;
            }
        }
        if (url.tls() && m_tls == nullptr && !m_connector) {
            SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
            SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
            bool loaded = m_ca_file.empty()
                              ? SSL_CTX_set_default_verify_paths(ctx) == 1
                              : SSL_CTX_load_verify_locations(ctx, m_ca_file.c_str(), nullptr) == 1;
            if (!loaded) {
                SSL_CTX_free(ctx);
                throw Error(ErrorKind::invalid_input,
                            m_ca_file.empty() ? "cannot load the system's CA certificates"
                                              : "cannot load CA certificates from " + m_ca_file,
                            "install the ca-certificates package, or fix --ca-file");
            }
            m_tls = ctx;
        }
    }
    reused = false;
    std::unique_ptr<Connection> conn =
        m_connector ? m_connector(url, timeouts.connect)
                    : std::make_unique<SocketConnection>(url, timeouts.connect, m_tls);
    ++m_opened;
    return conn;
}

void ClientPool::release(std::unique_ptr<Connection> conn) {
    conn->idle_since = std::chrono::steady_clock::now();
    std::lock_guard lock(m_mutex);
    auto& idle = m_idle[conn->origin()];
    if (idle.size() < max_idle_per_origin) {
        idle.push_back(std::move(conn));
    }
}

HttpResponse ClientPool::send(const Url& url, const HttpRequest& request) {
    return send(url, request, m_timeouts);
}

HttpResponse ClientPool::send(const Url& url, const HttpRequest& request,
                              const Timeouts& timeouts) {
    auto pending = start(url, request, timeouts);
    for (;;) {
        if (auto response = pending.wait(std::chrono::hours(24))) {
            return std::move(*response);
        }
    }
}

PendingResponse ClientPool::start(const Url& url, const HttpRequest& request,
                                  const Timeouts& timeouts) {
    PendingResponse pending;
    pending.m_pool = this;
    pending.m_url = &url;
    pending.m_timeouts = timeouts;
    if (pending.m_timeouts.first_byte.count() <= 0) {
        pending.m_timeouts.first_byte = timeouts.read;
    }
    pending.m_head_only = request.method == "HEAD";
    auto& head = pending.m_head;
    head.reserve(256 + request.target.size());
    head.append(request.method).append(" ").append(request.target).append(" HTTP/1.1\r\n");
    head.append("Host: ").append(url.authority()).append("\r\n");
    for (const auto& [name, value] : request.headers) {
        head.append(name).append(": ").append(value).append("\r\n");
    }
    if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
        head.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n");
    }
    head.append("\r\n");
    if (request.body.size() <= 64 * 1024) {
        head.append(request.body);
    } else {
        pending.m_large_body = request.body;
    }
    bool reused = false;
    auto conn = acquire(url, timeouts, reused);
    pending.send_on(std::move(conn), reused);
    return pending;
}

// ---- PendingResponse ------------------------------------------------------------------

PendingResponse::PendingResponse(PendingResponse&&) noexcept = default;
PendingResponse& PendingResponse::operator=(PendingResponse&&) noexcept = default;
PendingResponse::~PendingResponse() = default;

void PendingResponse::send_on(std::unique_ptr<Connection> conn, bool reused) {
    m_conn = std::move(conn);
    m_reused = reused;
    try {
        m_conn->write_all(m_head);
        if (!m_large_body.empty()) {
            m_conn->write_all(m_large_body);
        }
    } catch (const Error& e) {
        if (!m_reused || m_resent || e.kind() != ErrorKind::upstream_unreachable) {
            throw;
        }
        // A pooled connection the upstream closed while idle: the request never reached it.
        m_resent = true;
        bool fresh_reused = false;
        send_on(m_pool->acquire(*m_url, m_timeouts, fresh_reused), false);
        return;
    }
    m_sent_at = std::chrono::steady_clock::now();
}

std::optional<HttpResponse> PendingResponse::wait(std::chrono::milliseconds slice) {
    const std::string label = m_url->origin();
    auto now = std::chrono::steady_clock::now();
    auto first_byte_deadline = m_sent_at + m_timeouts.first_byte;
    auto slice_end = now + slice;
    size_t header_end;
    try {
        auto& buffer = m_conn->buffer();
        for (;;) {
            while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
                if (buffer.size() > max_header_bytes) {
                    throw protocol_error(label, "headers larger than 64 KiB");
                }
                now = std::chrono::steady_clock::now();
                auto until = std::min(slice_end, first_byte_deadline);
                auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - now);
                std::optional<bool> more;
                if (left.count() > 0) {
                    more = m_conn->read_some(left);
                }
                if (!more) {
                    if (std::chrono::steady_clock::now() < first_byte_deadline) {
                        return std::nullopt;
                    }
                    throw Error(ErrorKind::upstream_timeout,
                                fmt::format("{} did not start answering within {} s", label,
                                            m_timeouts.first_byte.count() / 1000.0),
                                "the upstream is overloaded or stuck; raise the first-byte "
                                "timeout if it is just slow");
                }
                if (!*more) {
                    throw Error(ErrorKind::upstream_unreachable,
                                fmt::format("{} closed the connection without answering", label));
                }
            }
            // Skip interim 1xx responses (e.g. 100 Continue).
            if (buffer.compare(0, 10, "HTTP/1.1 1") == 0 &&
                buffer.compare(0, 12, "HTTP/1.1 101") != 0) {
                buffer.erase(0, header_end + 4);
                continue;
            }
            break;
        }
    } catch (const Error& e) {
        // A pooled connection the upstream closed while idle fails before any byte of an
        // answer arrives; the request never reached the application, so send it once more.
        if (m_reused && !m_resent && m_conn->buffer().empty() &&
            e.kind() == ErrorKind::upstream_unreachable) {
            m_resent = true;
            bool reused = false;
            send_on(m_pool->acquire(*m_url, m_timeouts, reused), false);
            return wait(std::chrono::duration_cast<std::chrono::milliseconds>(
                slice_end - std::chrono::steady_clock::now()));
        }
        throw;
    }
    return parse_head(header_end);
}

HttpResponse PendingResponse::parse_head(size_t header_end) {
    const std::string label = m_url->origin();
    HttpResponse response;
    response.m_pool = m_pool;
    response.m_label = label;
    response.m_read_timeout = m_timeouts.read;
    response.wait_us = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::steady_clock::now() - m_sent_at)
                           .count();
    auto& buffer = m_conn->buffer();
    std::string_view head_view(buffer.data(), header_end);
    auto line_end = head_view.find("\r\n");
    std::string_view status_line = head_view.substr(0, line_end);
    if (status_line.size() < 12 || status_line.compare(0, 7, "HTTP/1.") != 0) {
        throw protocol_error(label, "no HTTP status line");
    }
    bool http10 = status_line[7] == '0';
    auto [ptr, ec] =
        std::from_chars(status_line.data() + 9, status_line.data() + 12, response.status);
    if (ec != std::errc() || response.status < 100 || response.status > 599) {
        throw protocol_error(label, "bad status code");
    }
    std::string_view rest =
        line_end == std::string_view::npos ? "" : head_view.substr(line_end + 2);
    while (!rest.empty()) {
        auto eol = rest.find("\r\n");
        std::string_view line = rest.substr(0, eol);
        rest = eol == std::string_view::npos ? "" : rest.substr(eol + 2);
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) {
            throw protocol_error(label, "malformed header line");
        }
        response.headers.add(core::to_lower(trim(line.substr(0, colon))),
                             std::string(trim(line.substr(colon + 1))));
    }
    buffer.erase(0, header_end + 4);

    const std::string* connection = response.header("connection");
    response.m_reusable = !http10 && !(connection && contains_token(*connection, "close"));
    const std::string* encoding = response.header("transfer-encoding");
    const std::string* length = response.header("content-length");
    if (m_head_only || response.status == 204 || response.status == 304) {
        response.m_framing = HttpResponse::Framing::none;
    } else if (encoding && contains_token(*encoding, "chunked")) {
        response.m_framing = HttpResponse::Framing::chunked;
    } else if (length) {
        auto [p, e] =
            std::from_chars(length->data(), length->data() + length->size(), response.m_remaining);
        if (e != std::errc() || p != length->data() + length->size()) {
            throw protocol_error(label, "bad Content-Length");
        }
        response.m_framing = HttpResponse::Framing::length;
    } else {
        response.m_framing = HttpResponse::Framing::until_close;
        response.m_reusable = false;
    }
    response.m_conn = std::move(m_conn);
    return response;
}

} // namespace aimo::upstream
