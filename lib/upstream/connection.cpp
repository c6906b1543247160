#include "upstream/connection.hpp"

#include "core/error.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace aimo::upstream {

using core::Error;
using core::ErrorKind;

namespace {
int wait_for(int fd, short events, std::chrono::milliseconds timeout) {
    pollfd pfd{fd, events, 0};
    int rc;
    do {
        rc = ::poll(&pfd, 1, static_cast<int>(timeout.count()));
    } while (rc < 0 && errno == EINTR);
    return rc;
}

std::string tls_error_text() {
    unsigned long code = ERR_get_error();
    if (code == 0) {
        return "connection closed during the handshake";
    }
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    return text;
}

SSL* as_ssl(void* p) {
    return static_cast<SSL*>(p);
}
} // namespace

SocketConnection::SocketConnection(const Url& url, std::chrono::milliseconds connect_timeout,
                                   void* tls_context)
    : Connection(url.origin()) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* addresses = nullptr;
    std::string port = std::to_string(url.port);
    if (int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &addresses); rc != 0) {
        throw Error(ErrorKind::upstream_unreachable,
                    fmt::format("cannot resolve {}: {}", url.host, gai_strerror(rc)),
                    "check the URL and your network connection");
    }
    std::string last_error = "no addresses";
    bool timed_out = false;
    for (addrinfo* ai = addresses; ai != nullptr && m_fd < 0; ai = ai->ai_next) {
        int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                          ai->ai_protocol);
        if (fd < 0) {
            last_error = std::strerror(errno);
            continue;
        }
        int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            int ready = wait_for(fd, POLLOUT, connect_timeout);
            int so_error = 0;
            socklen_t len = sizeof so_error;
            ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
            if (ready == 0) {
                timed_out = true;
                last_error = "timed out";
                ::close(fd);
                continue;
            }
            rc = so_error == 0 ? 0 : -1;
            errno = so_error;
        }
        if (rc != 0) {
            last_error = std::strerror(errno);
            ::close(fd);
            continue;
        }
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        m_fd = fd;
    }
    ::freeaddrinfo(addresses);
    if (m_fd < 0) {
        throw Error(timed_out ? ErrorKind::upstream_timeout : ErrorKind::upstream_unreachable,
                    fmt::format("cannot connect to {}: {}", origin(), last_error),
                    "check that the upstream is running and the URL is right");
    }
    if (!url.tls()) {
        return;
    }
    // The handshake is bounded by socket timeouts; reads later are bounded by poll().
    timeval tv{static_cast<time_t>(connect_timeout.count() / 1000),
               static_cast<suseconds_t>(connect_timeout.count() % 1000 * 1000)};
    ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    SSL* ssl = SSL_new(static_cast<SSL_CTX*>(tls_context));
    m_ssl = ssl;
    SSL_set_fd(ssl, m_fd);
    in6_addr ip{};
    bool ip_literal = ::inet_pton(AF_INET, url.host.c_str(), &ip) == 1 ||
                      ::inet_pton(AF_INET6, url.host.c_str(), &ip) == 1;
    if (ip_literal) {
        // Certificates name IP addresses in their own SAN entries; SNI takes no IPs.
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str());
    } else {
        SSL_set_tlsext_host_name(ssl, url.host.c_str());
        SSL_set1_host(ssl, url.host.c_str());
    }
    if (int rc = SSL_connect(ssl); rc != 1) {
        // SO_RCVTIMEO/SO_SNDTIMEO expiring makes a read or write fail with EAGAIN, which
        // OpenSSL reports as "want read/write" (or as a syscall error).
        int err = errno;
        int code = SSL_get_error(ssl, rc);
        bool timed_out = code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE ||
                         (code == SSL_ERROR_SYSCALL && (err == EAGAIN || err == EWOULDBLOCK));
        long verify = SSL_get_verify_result(ssl);
        std::string why =
            verify != X509_V_OK ? X509_verify_cert_error_string(verify) : tls_error_text();
        ::close(m_fd);
        SSL_free(ssl);
        m_fd = -1;
        m_ssl = nullptr;
        if (timed_out) {
            throw Error(ErrorKind::upstream_timeout,
                        fmt::format("TLS handshake with {} did not finish within {} s", origin(),
                                    static_cast<double>(connect_timeout.count()) / 1000.0),
                        "the upstream accepts connections but does not answer; check that the "
                        "URL is https and the server is healthy");
        }
        throw Error(ErrorKind::upstream_unreachable,
                    fmt::format("TLS handshake with {} failed: {}", origin(), why),
                    "check the system clock and CA certificates (package ca-certificates)");
    }
}

SocketConnection::~SocketConnection() {
    if (m_ssl != nullptr) {
        SSL_free(as_ssl(m_ssl));
    }
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

void SocketConnection::write_all(std::string_view data) {
    while (!data.empty()) {
        ssize_t n;
        if (m_ssl != nullptr) {
            n = SSL_write(as_ssl(m_ssl), data.data(), static_cast<int>(data.size()));
        } else {
            n = ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL);
        }
        if (n < 0 && errno == EINTR && m_ssl == nullptr) {
            continue;
        }
        if (n <= 0) {
            throw Error(ErrorKind::upstream_unreachable,
                        fmt::format("connection to {} failed while sending: {}", origin(),
                                    m_ssl != nullptr ? tls_error_text() : std::strerror(errno)));
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

bool Connection::read_more(std::chrono::milliseconds timeout) {
    if (auto more = read_some(timeout)) {
        return *more;
    }
    throw Error(ErrorKind::upstream_timeout,
                fmt::format("{} sent nothing for {} s", origin(), timeout.count() / 1000.0),
                "the upstream is overloaded or stuck; raise the read or idle timeout if it is just "
                "slow");
}

std::optional<bool> SocketConnection::read_some(std::chrono::milliseconds timeout) {
    char chunk[16384];
    // SO_RCVTIMEO and poll both read 0 as "no limit".
    timeout = std::max(timeout, std::chrono::milliseconds(1));
    if (m_ssl == nullptr) {
        // A blocking recv bounded by SO_RCVTIMEO: one syscall per read instead of poll + recv.
        if (timeout != m_receive_timeout) {
            timeval tv{static_cast<time_t>(timeout.count() / 1000),
                       static_cast<suseconds_t>(timeout.count() % 1000 * 1000)};
            ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            m_receive_timeout = timeout;
        }
        ssize_t n;
        do {
            n = ::recv(m_fd, chunk, sizeof chunk, 0);
        } while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return std::nullopt;
        }
        if (n < 0) {
            throw Error(ErrorKind::upstream_unreachable,
                        fmt::format("connection to {} failed: {}", origin(), std::strerror(errno)));
        }
        m_buffer.append(chunk, static_cast<size_t>(n));
        return n > 0;
    }
    for (;;) {
        if (SSL_pending(as_ssl(m_ssl)) == 0 && wait_for(m_fd, POLLIN, timeout) == 0) {
            return std::nullopt;
        }
        int n = SSL_read(as_ssl(m_ssl), chunk, sizeof chunk);
        if (n > 0) {
            m_buffer.append(chunk, static_cast<size_t>(n));
            return true;
        }
        int code = SSL_get_error(as_ssl(m_ssl), n);
        if (code == SSL_ERROR_WANT_READ) {
            continue;
        }
        if (code == SSL_ERROR_ZERO_RETURN || (code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
            return false;
        }
        throw Error(ErrorKind::upstream_unreachable,
                    fmt::format("connection to {} failed: {}", origin(), tls_error_text()));
    }
}

bool SocketConnection::idle_and_open() {
    if (!m_buffer.empty()) {
        return false;
    }
    pollfd pfd{m_fd, POLLIN, 0};
    // Readable while idle means EOF or junk: either way the connection is unusable.
    return ::poll(&pfd, 1, 0) == 0;
}

} // namespace aimo::upstream
