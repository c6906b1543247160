#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

namespace aimo::proxy {

/// One accepted client connection: its non-blocking socket (closed on destruction) and the bytes
/// read from it that no request has used yet (the start of the next, perhaps pipelined, request).
struct ClientSocket {
    using Clock = std::chrono::steady_clock;

    /// `open` is decremented when the connection closes.
    ClientSocket(int fd, std::atomic<size_t>* open) : fd(fd), m_open(open) {}
    ~ClientSocket();
    ClientSocket(const ClientSocket&) = delete;
    ClientSocket& operator=(const ClientSocket&) = delete;

    int fd;
    std::string buffer;
    Clock::time_point deadline{}; ///< while waiting for a request: when to give up on it
    bool head_started = false;    ///< bytes of a request head have arrived (else it is idle)
    bool over_cap = false;        ///< accepted past the connection cap: answered, then closed
    bool peer_closed = false;     ///< the client shut its side after sending
    bool registered = false;      ///< known to the server's epoll set
    /// When the last answer on it was written, and whether the request after it came within
    /// moments (then the next one is waited for on the worker, not the poller).
    Clock::time_point answered_at{};
    bool quick = false;

private:
    std::atomic<size_t>* m_open;
};

/// What a read that waits for bytes ended with.
enum class ReadResult { data, closed, timeout };

/// Appends whatever `fd` has to `into`, waiting for at least one byte until `deadline`.
ReadResult read_more(int fd, std::string& into, ClientSocket::Clock::time_point deadline);

/// Reads without waiting until the socket has nothing more or `into` holds `limit` bytes;
/// false when the client has closed its side (what it sent before is in `into`).
bool read_available(int fd, std::string& into, size_t limit);

/// Writes all of `data`; false when the client went away or read nothing for `stall`.
bool send_all(int fd, std::string_view data, std::chrono::milliseconds stall);

/// True when the client has closed its connection (or it broke), without reading from it:
/// bytes it sent meanwhile (a pipelined request) stay where they are.
bool hung_up(int fd);

/// The address of the client on `fd` ("127.0.0.1", "::1"), or "unknown".
std::string peer_address(int fd);

} // namespace aimo::proxy
