#include "memory_upstream.hpp"

#include "core/error.hpp"

#include <fmt/format.h>
#include <thread>

namespace aimo::test {

namespace {
// A connection whose peer answers once, after the request was written, then closes.
class MemoryConnection final : public upstream::Connection {
public:
    MemoryConnection(std::string origin, Canned answer, std::shared_ptr<std::string> sent)
        : Connection(std::move(origin)), m_answer(std::move(answer)), m_sent(std::move(sent)) {}

    void write_all(std::string_view data) override { m_sent->append(data); }

    std::optional<bool> read_some(std::chrono::milliseconds timeout) override {
        if (m_answer.kind == Canned::Kind::silent) {
            std::this_thread::sleep_for(timeout); // the upstream's silence takes real time
            return std::nullopt;
        }
        if (m_delivered) {
            return false;
        }
        m_delivered = true;
        m_buffer += m_answer.bytes;
        return true;
    }

    bool idle_and_open() override { return false; }

private:
    Canned m_answer;
    std::shared_ptr<std::string> m_sent;
    bool m_delivered = false;
};
} // namespace

Canned Canned::status(int code, const std::string& body, const std::vector<std::string>& headers) {
    Canned canned;
    canned.bytes = fmt::format("HTTP/1.1 {} Status\r\nContent-Type: application/json\r\n", code);
    for (const auto& header : headers) {
        canned.bytes += header + "\r\n";
    }
    canned.bytes +=
        fmt::format("Content-Length: {}\r\nConnection: close\r\n\r\n{}", body.size(), body);
    return canned;
}

Canned Canned::sse(const std::vector<std::string>& events) {
    Canned canned;
    canned.bytes =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
    for (const auto& event : events) {
        canned.bytes += event;
    }
    return canned;
}

Canned Canned::refuse() {
    Canned canned;
    canned.kind = Kind::refuse;
    return canned;
}

Canned Canned::silent() {
    Canned canned;
    canned.kind = Kind::silent;
    return canned;
}

void MemoryUpstreams::script(const std::string& host, std::vector<Canned> answers) {
    std::lock_guard lock(m_state->mutex);
    auto& queue = m_state->scripts[host];
    queue.insert(queue.end(), answers.begin(), answers.end());
}

upstream::Connector MemoryUpstreams::connector() {
    return [state = m_state](const upstream::Url& url,
                             std::chrono::milliseconds) -> std::unique_ptr<upstream::Connection> {
        std::lock_guard lock(state->mutex);
        ++state->connections;
        auto& queue = state->scripts[url.host];
        Canned answer = Canned::status(200);
        if (!queue.empty()) {
            answer = queue.front();
            queue.pop_front();
        }
        if (answer.kind == Canned::Kind::refuse) {
            throw core::Error(
                core::ErrorKind::upstream_unreachable,
                fmt::format("cannot connect to {}: Connection refused", url.origin()));
        }
        auto sent = std::make_shared<std::string>();
        state->sent[url.host].push_back(sent);
        return std::make_unique<MemoryConnection>(url.origin(), std::move(answer), sent);
    };
}

std::vector<std::string> MemoryUpstreams::sent(const std::string& host) {
    std::lock_guard lock(m_state->mutex);
    std::vector<std::string> out;
    for (const auto& request : m_state->sent[host]) {
        out.push_back(*request);
    }
    return out;
}

size_t MemoryUpstreams::connections() {
    std::lock_guard lock(m_state->mutex);
    return m_state->connections;
}

} // namespace aimo::test
