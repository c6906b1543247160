#include "fake_upstream.hpp"

#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace aimo::test {

std::string UpstreamRequest::header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
}

std::vector<std::string> FakeUpstream::sse_events(const std::string& text) {
    auto event = [](const std::string& piece) {
        return "data: " +
               nlohmann::json{{"object", "chat.completion.chunk"},
                              {"choices", {{{"index", 0}, {"delta", {{"content", piece}}}}}}}
                   .dump() +
               "\n\n";
    };
    return {event(text), event("!"), "data: [DONE]\n\n"};
}

std::string FakeUpstream::chunk_event(const nlohmann::json& delta,
                                      const nlohmann::json& finish_reason) {
    return "data: " +
           nlohmann::json{
               {"id", "chatcmpl-stream"},
               {"object", "chat.completion.chunk"},
               {"created", 1},
               {"model", "llama3"},
               {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish_reason}}}}}
               .dump() +
           "\n\n";
}

nlohmann::json FakeUpstream::tool_call_delta(const nlohmann::json& function,
                                             const std::string& id) {
    nlohmann::json piece = {{"index", 0}, {"function", function}};
    if (!id.empty()) {
        piece["id"] = id;
        piece["type"] = "function";
    }
    return {{"tool_calls", nlohmann::json::array({piece})}};
}

std::string FakeUpstream::completion_body() const {
    return nlohmann::json{
        {"object", "chat.completion"},
        {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", m_name}}}}}}}
        .dump();
}

FakeUpstream::FakeUpstream(std::string name, std::vector<std::string> models)
    : m_name(std::move(name)), m_models(std::move(models)) {
    auto server = std::make_unique<httplib::Server>();
    server->new_task_queue = [] { return new httplib::ThreadPool(64); };
    server->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
        nlohmann::json list = {{"object", "list"}, {"data", nlohmann::json::array()}};
        for (const auto& id : m_models) {
            list["data"].push_back({{"id", id}, {"object", "model"}, {"owned_by", m_name}});
        }
        res.set_content(list.dump(), "application/json");
    });
    server->Post("/v1/(chat/completions|completions|embeddings|responses|messages)",
                 [this](const httplib::Request& req, httplib::Response& res) {
                     Scripted answer;
                     {
                         std::lock_guard lock(m_mutex);
                         m_requests.push_back({req.path, req.body, req.headers});
                         if (m_script.empty()) {
                             answer = m_default;
                         } else {
                             answer = m_script.front();
                             m_script.pop_front();
                         }
                     }
                     // Simulated upstream latency, not test synchronisation.
                     std::this_thread::sleep_for(std::chrono::milliseconds(answer.delay_ms));
                     res.status = answer.status;
                     for (const auto& [name, value] : answer.headers) {
                         res.set_header(name, value);
                     }
                     if (!answer.sse.empty()) {
                         auto events = std::make_shared<std::vector<std::string>>(answer.sse);
                         res.set_chunked_content_provider(
                             "text/event-stream",
                             [events, gap = answer.gap_ms](size_t, httplib::DataSink& sink) {
                                 for (size_t i = 0; i < events->size(); ++i) {
                                     if (i > 0) {
                                         std::this_thread::sleep_for(
                                             std::chrono::milliseconds(gap));
                                     }
                                     if (!sink.write((*events)[i].data(), (*events)[i].size())) {
                                         return false;
                                     }
                                 }
                                 sink.done();
                                 return true;
                             });
                         return;
                     }
                     res.set_content(answer.body.empty() ? completion_body() : answer.body,
                                     "application/json");
                 });
    m_server = std::make_unique<TestServer>(std::move(server));
}

void FakeUpstream::script(std::vector<Scripted> answers) {
    std::lock_guard lock(m_mutex);
    m_script.insert(m_script.end(), answers.begin(), answers.end());
}

void FakeUpstream::set_default(Scripted answer) {
    std::lock_guard lock(m_mutex);
    m_default = std::move(answer);
}

std::vector<UpstreamRequest> FakeUpstream::requests() {
    std::lock_guard lock(m_mutex);
    return m_requests;
}

size_t FakeUpstream::count() {
    std::lock_guard lock(m_mutex);
    return m_requests.size();
}

namespace {
// A TCP socket bound to a free loopback port; its port through `port`.
int bound_socket(int& port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    return fd;
}
} // namespace

int refused_port() {
    int port = 0;
    ::close(bound_socket(port)); // bound but never listening, then released: refused
    return port;
}

SilentListener::SilentListener() : m_fd(bound_socket(m_port)) {
    ::listen(m_fd, 16);
}

SilentListener::~SilentListener() {
    ::close(m_fd);
}

} // namespace aimo::test
