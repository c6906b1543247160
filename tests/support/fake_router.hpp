#pragma once

#include "crypto/siwx.hpp"
#include "test_server.hpp"
#include "tls_cert.hpp"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace aimo::test {

/// What the fake router saw of one request.
struct SeenRequest {
    std::string method;
    std::string path;
    std::string query;
    std::string body;
    httplib::Headers headers;
    std::string remote_port;
    crypto::SiwxCheck siwx; ///< verification of the SIGN-IN-WITH-X header
};

/// A loopback stand-in for the AiMo router: serves /api/v1/models, /session/balance and the
/// completion endpoints, verifies and records every request. Tests replace `on_completion` to
/// script upstream behaviour (errors, slow or broken streams).
class FakeRouter {
public:
    /// Plain HTTP on 127.0.0.1, or HTTPS with `tls`'s certificate, addressed as `host`.
    explicit FakeRouter(const TlsFiles* tls = nullptr, std::string host = "127.0.0.1");

    std::string url() const { return m_scheme + "://" + m_host + ":" + std::to_string(port()); }
    int port() const { return m_server->port(); }

    /// Everything seen so far.
    std::vector<SeenRequest> requests();
    /// Requests to paths starting with `prefix`.
    size_t count(const std::string& prefix);
    /// Distinct client connections seen (by remote port).
    size_t connections();

    /// Body served on GET /api/v1/models and its status.
    std::string models_body;
    int models_status = 200;
    /// Status of GET /api/v1/session/balance (401 simulates a rejected signature).
    int balance_status = 200;
    /// Added to this machine's clock in the Date header of every answer.
    std::chrono::seconds clock_offset{0};
    /// Handles POST /api/v1/{chat/completions,completions,embeddings,responses}.
    std::function<void(const httplib::Request&, httplib::Response&)> on_completion;

    /// Completions answer as an SSE stream: `first`, then a wait at the gate (up to `wait_ms`),
    /// then `rest`. A client that is gone by then ends the stream early.
    void stream_with_gate(std::string first, std::string rest, int wait_ms = 20000);
    /// Whether the last wait in stream_with_gate ended because the gate opened.
    bool gate_opened_in_stream() const { return m_gate_opened_in_stream; }

    /// A gate tests open to let a held-back upstream response continue.
    void open_gate();
    /// Blocks (at most `ms`) until open_gate(); returns whether it opened.
    bool wait_gate(int ms = 10000);
    /// Blocks until `n` requests are waiting at the gate.
    bool wait_waiting(size_t n, int ms = 20000);

    /// The default streamed answer: three content deltas, a comment line and [DONE].
    static std::string sse_answer();

private:
    void record(const httplib::Request& req);

    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::vector<SeenRequest> m_requests;
    std::string m_scheme;
    std::string m_host;
    bool m_gate_open = false;
    std::atomic<bool> m_gate_opened_in_stream{false};
    size_t m_waiting = 0;
    std::unique_ptr<TestServer> m_server;
};

} // namespace aimo::test
