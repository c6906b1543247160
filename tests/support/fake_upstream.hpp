#pragma once

#include "test_server.hpp"

#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace aimo::test {

/// One scripted answer of a FakeUpstream.
struct Scripted {
    int status = 200;
    httplib::Headers headers;
    std::string body;             ///< a JSON body; empty: a completion naming the upstream
    int delay_ms = 0;             ///< before the status line: a slow first byte
    std::vector<std::string> sse; ///< when set, the answer is this SSE stream …
    int gap_ms = 0;               ///< … with this pause between events
};

/// What a FakeUpstream saw of one request.
struct UpstreamRequest {
    std::string path;
    std::string body;
    httplib::Headers headers;
    std::string header(const std::string& name) const;
};

/// An OpenAI-compatible upstream (OpenAI, Groq, Ollama …) on a free loopback port, serving
/// /v1/models and the completion endpoints from a script, recording every request. When the
/// script is empty it answers 200 with a completion whose content is its name.
class FakeUpstream {
public:
    explicit FakeUpstream(std::string name, std::vector<std::string> models = {"llama3"});

    /// Base URL as a provider's base_url: http://127.0.0.1:PORT/v1.
    std::string base_url() const { return m_server->url() + "/v1"; }
    /// Queues answers for the next completion requests, in order.
    void script(std::vector<Scripted> answers);
    /// Replaces the answer given once the script is used up.
    void set_default(Scripted answer);
    /// Completion requests seen so far.
    std::vector<UpstreamRequest> requests();
    size_t count();
    /// The body of an ordinary answer from this upstream.
    std::string completion_body() const;
    /// A streamed answer: two content events and [DONE].
    static std::vector<std::string> sse_events(const std::string& text);
    /// One chat completion chunk of choice 0 as an SSE event: `delta`, and `finish_reason`.
    static std::string chunk_event(const nlohmann::json& delta,
                                   const nlohmann::json& finish_reason = nullptr);
    /// A delta with a piece of tool call 0: `function` (name and/or arguments), and the call's
    /// id and type when `id` is given (its first piece).
    static nlohmann::json tool_call_delta(const nlohmann::json& function,
                                          const std::string& id = "");

private:
    std::string m_name;
    std::vector<std::string> m_models;
    std::mutex m_mutex;
    std::deque<Scripted> m_script;
    Scripted m_default;
    std::vector<UpstreamRequest> m_requests;
    std::unique_ptr<TestServer> m_server;
};

/// A loopback port with nothing listening on it: connections are refused (a dead upstream).
int refused_port();

/// A loopback port whose connections the kernel completes but nobody ever reads or answers:
/// an upstream that hangs during the TLS handshake.
class SilentListener {
public:
    SilentListener();
    ~SilentListener();
    SilentListener(const SilentListener&) = delete;
    SilentListener& operator=(const SilentListener&) = delete;
    int port() const { return m_port; }

private:
    int m_port = 0;
    int m_fd = -1;
};

} // namespace aimo::test
