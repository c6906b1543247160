#pragma once

#include "proxy/types.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace aimo::proxy {

/// Limits on what a client may send before its body.
inline constexpr size_t max_head_bytes = 64 * 1024;   ///< request line and headers together
inline constexpr size_t max_target_bytes = 16 * 1024; ///< the request target
inline constexpr size_t max_header_count = 128;

/// A request head as read off the wire, checked against RFC 9112, with its body framing.
struct RequestHead {
    std::string method;
    std::string path;  ///< percent-decoded, valid UTF-8 without control characters
    std::string query; ///< raw, without '?'
    int minor_version = 1;
    Headers headers; ///< in wire order, names as sent
    enum class Body { none, length, chunked };
    Body body = Body::none;
    uint64_t content_length = 0;
    bool keep_alive = true;       ///< what the client asked for (HTTP/1.0 defaults to close)
    bool expect_continue = false; ///< "Expect: 100-continue"
};

/// Why a head (or body) was refused: the status, a code and a message saying what was wrong.
struct HttpError {
    int status = 400;
    std::string code;
    std::string message;
};

/// Skips empty lines a client may send between requests (RFC 9112 §2.2): the number of
/// leading CR and LF bytes.
size_t leading_blank_lines(std::string_view buffer);

/// Where the head at the start of `buffer` ends (just past its empty line; lines may end in
/// CRLF or a bare LF), or 0 while it is incomplete.
size_t find_head_end(std::string_view buffer);

/// Parses a complete head (as find_head_end delimits it). Never throws.
std::variant<RequestHead, HttpError> parse_request_head(std::string_view head);

/// Decodes %XX escapes; nullopt when an escape is malformed.
std::optional<std::string> percent_decode(std::string_view text);

/// Decodes a chunked body incrementally, however its bytes are split: feed() what has arrived,
/// it appends the data to `out` and says how many input bytes it used. Refuses chunk-size
/// lines and trailers over 8 KiB, and stops with an error once the data passes `limit`.
class ChunkedDecoder {
public:
    enum class Status { more, done, error, too_large };

    explicit ChunkedDecoder(uint64_t limit) : m_limit(limit) {}

    /// Consumes a prefix of `in`; `used` is set to its length. After done or an error, call no
    /// more: the bytes after the body (a pipelined request) are left unused.
    Status feed(std::string_view in, std::string& out, size_t& used);
    /// What was malformed, after Status::error.
    const std::string& error() const { return m_error; }

private:
    enum class State { size, data, data_end, trailer };
    Status fail(std::string what);

    uint64_t m_limit;
    uint64_t m_total = 0;
    uint64_t m_remaining = 0;
    State m_state = State::size;
    std::string m_line;
    std::string m_error;
};

/// The reason phrase of an HTTP status ("OK", "Not Found" …); "Unknown" for others.
std::string_view status_reason(int status);

} // namespace aimo::proxy
