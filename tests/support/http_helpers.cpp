#include "http_helpers.hpp"

#include "core/text.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace aimo::test {

std::string chat_body(const std::string& model, bool stream) {
    return nlohmann::json{
        {"model", model}, {"stream", stream}, {"messages", {{{"role", "user"}, {"content", "hi"}}}}}
        .dump();
}

std::string Reply::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
}

Reply http_get(int port, const std::string& path, const httplib::Headers& headers, int timeout_s) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(timeout_s);
    Reply reply;
    auto result = client.Get(path, headers);
    reply.error = result.error();
    if (result) {
        reply.status = result->status;
        reply.body = result->body;
        reply.headers = result->headers;
    }
    return reply;
}

Reply http_post(int port, const std::string& path, const std::string& body,
                const httplib::Headers& headers,
                const std::function<bool(const std::string&)>& on_chunk, int timeout_s) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(timeout_s);
    Reply reply;
    httplib::Request request;
    request.method = "POST";
    request.path = path;
    request.headers = headers;
    request.body = body;
    if (!request.has_header("Content-Type")) {
        request.set_header("Content-Type", "application/json");
    }
    request.response_handler = [&](const httplib::Response& response) {
        reply.status = response.status;
        reply.headers = response.headers;
        return true;
    };
    request.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
        std::string piece(data, length);
        reply.body += piece;
        reply.chunks.push_back(piece);
        return on_chunk ? on_chunk(piece) : true;
    };
    httplib::Response response;
    httplib::Error error = httplib::Error::Success;
    if (!client.send(request, response, error)) {
        reply.error = error;
        if (reply.status == -1) {
            reply.status = -1;
        }
    }
    return reply;
}

int connect_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

RawConnection::RawConnection(int port) : m_fd(connect_loopback(port)) {}

RawConnection::~RawConnection() {
    if (m_fd >= 0) {
        close(m_fd);
    }
}

std::string RawConnection::request(const std::string& bytes) {
    if (m_fd < 0 || send(m_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) < 0) {
        return "";
    }
    char chunk[4096];
    size_t head_end;
    while ((head_end = m_buffer.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = recv(m_fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            return "";
        }
        m_buffer.append(chunk, static_cast<size_t>(n));
    }
    size_t length = 0;
    auto pos = m_buffer.find("Content-Length: ");
    if (pos != std::string::npos && pos < head_end) {
        length = std::stoul(m_buffer.substr(pos + 16));
    }
    while (m_buffer.size() < head_end + 4 + length) {
        ssize_t n = recv(m_fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            return "";
        }
        m_buffer.append(chunk, static_cast<size_t>(n));
    }
    std::string response = m_buffer.substr(0, head_end + 4 + length);
    m_buffer.erase(0, head_end + 4 + length);
    return response;
}

std::string raw_exchange(int port, const std::string& bytes, const std::string& until) {
    int fd = connect_loopback(port);
    std::string out;
    if (fd >= 0 &&
        send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())) {
        char buffer[4096];
        ssize_t n;
        while ((until.empty() || out.find(until) == std::string::npos) &&
               (n = recv(fd, buffer, sizeof buffer, 0)) > 0) {
            out.append(buffer, static_cast<size_t>(n));
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    return out;
}

std::string raw_send_all(int port, const std::string& bytes, int timeout_ms) {
    int fd = connect_loopback(port);
    std::string out;
    if (fd < 0) {
        return out;
    }
    send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        pollfd ready{fd, POLLIN, 0};
        if (left <= 0 || poll(&ready, 1, static_cast<int>(left)) <= 0) {
            break;
        }
        char buffer[16384];
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
            break;
        }
        out.append(buffer, static_cast<size_t>(n));
    }
    close(fd);
    return out;
}

std::string RawResponse::header(const std::string& name) const {
    size_t pos = head.find("\r\n");
    while (pos != std::string::npos && pos + 2 < head.size()) {
        size_t end = head.find("\r\n", pos + 2);
        std::string line = head.substr(pos + 2, end - pos - 2);
        auto colon = line.find(':');
        if (colon != std::string::npos && core::iequals(line.substr(0, colon), name)) {
            auto value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            return value;
        }
        pos = end;
    }
    return "";
}

std::vector<RawResponse> split_responses(std::string_view bytes, std::string* rest) {
    std::vector<RawResponse> out;
    for (;;) {
        if (rest != nullptr) {
            *rest = std::string(bytes);
        }
        size_t head_end = bytes.find("\r\n\r\n");
        if (head_end == std::string_view::npos || bytes.substr(0, 9) != "HTTP/1.1 ") {
            return out;
        }
        RawResponse response;
        response.head = std::string(bytes.substr(0, head_end + 2));
        response.status = std::atoi(std::string(bytes.substr(9, 3)).c_str());
        std::string_view body = bytes.substr(head_end + 4);
        if (response.status == 100) {
            bytes = body;
            continue;
        }
        auto length = response.header("Content-Length");
        if (!length.empty()) {
            size_t n = std::stoul(length);
            if (body.size() < n) {
                return out;
            }
            response.body = std::string(body.substr(0, n));
            bytes = body.substr(n);
        } else if (core::iequals(response.header("Transfer-Encoding"), "chunked")) {
            for (;;) {
                size_t eol = body.find("\r\n");
                if (eol == std::string_view::npos) {
                    return out;
                }
                size_t n = std::stoul(std::string(body.substr(0, eol)), nullptr, 16);
                if (body.size() < eol + 2 + n + 2) {
                    return out;
                }
                response.body.append(body.substr(eol + 2, n));
                body = body.substr(eol + 2 + n + 2);
                if (n == 0) {
                    break;
                }
            }
            bytes = body;
        } else {
            response.body = std::string(body);
            bytes = {};
        }
        out.push_back(std::move(response));
    }
}

} // namespace aimo::test
