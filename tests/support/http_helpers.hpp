#pragma once

#include <functional>
#include <httplib.h>
#include <string>
#include <string_view>
#include <vector>

namespace aimo::test {

/// A response as a client saw it, with the body pieces in arrival order.
struct Reply {
    int status = -1; ///< -1 when the request failed at the transport level
    httplib::Error error = httplib::Error::Success;
    httplib::Headers headers;
    std::string body;
    std::vector<std::string> chunks;
    std::string header(const std::string& name) const;
};

/// A minimal chat completion request body for `model` ("hi" from the user).
std::string chat_body(const std::string& model, bool stream = false);

/// GET from the loopback server on `port`.
Reply http_get(int port, const std::string& path, const httplib::Headers& headers = {},
               int timeout_s = 10);

/// POST `body` as JSON; `on_chunk` sees each received piece and may return false to hang up.
Reply http_post(int port, const std::string& path, const std::string& body,
                const httplib::Headers& headers = {},
                const std::function<bool(const std::string&)>& on_chunk = {}, int timeout_s = 10);

/// A TCP connection to 127.0.0.1:`port` (10 s receive timeout), or -1 when refused.
int connect_loopback(int port);

/// One client TCP connection kept open across requests, to observe keep-alive.
class RawConnection {
public:
    explicit RawConnection(int port);
    ~RawConnection();
    /// Sends `bytes` and reads exactly one response (headers plus Content-Length body);
    /// empty when the server closed the connection instead.
    std::string request(const std::string& bytes);

private:
    int m_fd = -1;
    std::string m_buffer;
};

/// Sends raw bytes on a fresh TCP connection and reads until the peer closes or `until`
/// appears in what was read.
std::string raw_exchange(int port, const std::string& bytes, const std::string& until = "");

/// Sends raw bytes, shuts the sending side (so an incomplete request ends at once), and reads
/// until the server closes or `timeout_ms` passes.
std::string raw_send_all(int port, const std::string& bytes, int timeout_ms = 5000);

/// One HTTP response as a raw client read it.
struct RawResponse {
    int status = 0;
    std::string head;                                  ///< status line and headers
    std::string body;                                  ///< de-chunked
    std::string header(const std::string& name) const; ///< case-insensitive; empty when absent
};

/// Splits what a server sent into responses (Content-Length, chunked or close-delimited
/// bodies). Bytes that are not a whole response end the list; `rest` gets them.
std::vector<RawResponse> split_responses(std::string_view bytes, std::string* rest = nullptr);

} // namespace aimo::test
