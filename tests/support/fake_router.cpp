#include "fake_router.hpp"

#include <ctime>
#include <nlohmann/json.hpp>

namespace aimo::test {

std::string FakeRouter::sse_answer() {
    std::string out = ": keep-alive comment\n\n";
    for (const char* piece : {"Hel", "lo", "!"}) {
        out += "data: " +
               nlohmann::json{{"id", "c1"},
                              {"object", "chat.completion.chunk"},
                              {"choices", {{{"index", 0}, {"delta", {{"content", piece}}}}}}}
                   .dump() +
               "\n\n";
    }
    return out + "data: [DONE]\n\n";
}

FakeRouter::FakeRouter(const TlsFiles* tls, std::string host)
    : m_scheme(tls ? "https" : "http"), m_host(std::move(host)) {
    models_body = R"({"data":[
        {"name":"deepseek/deepseek-v3.2","display_name":"DeepSeek V3.2","context_length":131072,
         "providers":[{"name":"p1","pricing":{"prompt":"0.00000028","completion":"0.00000042"}}]},
        {"id":"openai/gpt-4o-mini","owned_by":"openai","context_length":128000,
         "pricing":{"prompt":0.00000015,"completion":0.0000006}},
        {"name":"plain-model"}]})";
    on_completion = [](const httplib::Request& req, httplib::Response& res) {
        auto body = nlohmann::json::parse(req.body, nullptr, false);
        if (body.is_object() && body.value("stream", false)) {
            res.set_content(sse_answer(), "text/event-stream");
            return;
        }
        res.set_content(
            R"({"id":"c1","object":"chat.completion","choices":[{"index":0,)"
            R"("message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],)"
            R"("usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}})",
            "application/json");
    };

    auto server = tls ? std::make_unique<httplib::SSLServer>(tls->cert.c_str(), tls->key.c_str())
                      : std::make_unique<httplib::Server>();
    // Enough threads for the many-streams tests, and keep-alive long enough to observe reuse.
    server->new_task_queue = [] { return new httplib::ThreadPool(300); };
    server->set_keep_alive_max_count(100000);
    server->Get("/api/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
        record(req);
        res.status = models_status;
        res.set_content(models_body, "application/json");
    });
    server->Get(
        "/api/v1/session/balance", [this](const httplib::Request& req, httplib::Response& res) {
            record(req);
            res.status = balance_status;
            res.set_content(balance_status == 200 ? R"({"balance":"12.50","currency":"USD"})"
                                                  : R"({"error":{"message":"invalid signature"}})",
                            "application/json");
        });
    server->Post("/api/v1/(chat/completions|completions|embeddings|responses)",
                 [this](const httplib::Request& req, httplib::Response& res) {
                     record(req);
                     on_completion(req, res);
                 });
    server->set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) {
        auto now =
            std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() + clock_offset);
        std::tm tm{};
        gmtime_r(&now, &tm);
        char date[64];
        std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        res.set_header("Date", date);
    });
    m_server = std::make_unique<TestServer>(std::move(server));
}

void FakeRouter::record(const httplib::Request& req) {
    SeenRequest seen;
    seen.method = req.method;
    seen.path = req.path;
    if (auto q = req.target.find('?'); q != std::string::npos) {
        seen.query = req.target.substr(q + 1);
    }
    seen.body = req.body;
    seen.headers = req.headers;
    seen.remote_port = req.get_header_value("REMOTE_PORT");
    seen.siwx = crypto::check_siwx_header(req.get_header_value("SIGN-IN-WITH-X"));
    std::lock_guard lock(m_mutex);
    m_requests.push_back(std::move(seen));
    m_changed.notify_all();
}

std::vector<SeenRequest> FakeRouter::requests() {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

size_t FakeRouter::count(const std::string& prefix) {
    std::lock_guard lock(m_mutex);
    size_t n = 0;
    for (const auto& r : m_requests) {
        n += r.path.rfind(prefix, 0) == 0 ? 1 : 0;
    }
    return n;
}

size_t FakeRouter::connections() {
    std::lock_guard lock(m_mutex);
    std::set<std::string> ports;
    for (const auto& r : m_requests) {
        ports.insert(r.remote_port);
    }
    return ports.size();
}

void FakeRouter::stream_with_gate(std::string first, std::string rest, int wait_ms) {
    on_completion = [this, first, rest, wait_ms](const httplib::Request&, httplib::Response& res) {
        res.set_chunked_content_provider(
            "text/event-stream", [this, first, rest, wait_ms](size_t, httplib::DataSink& sink) {
                if (!sink.write(first.data(), first.size())) {
                    return false;
                }
                m_gate_opened_in_stream = wait_gate(wait_ms);
                sink.write(rest.data(), rest.size());
                sink.done();
                return true;
            });
    };
}

void FakeRouter::open_gate() {
    std::lock_guard lock(m_mutex);
    m_gate_open = true;
    m_changed.notify_all();
}

bool FakeRouter::wait_gate(int ms) {
    std::unique_lock lock(m_mutex);
    ++m_waiting;
    m_changed.notify_all();
    bool opened =
        m_changed.wait_for(lock, std::chrono::milliseconds(ms), [this] { return m_gate_open; });
    --m_waiting;
    return opened;
}

bool FakeRouter::wait_waiting(size_t n, int ms) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, std::chrono::milliseconds(ms), [&] { return m_waiting >= n; });
}

} // namespace aimo::test
