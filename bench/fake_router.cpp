// A fast stand-in for the AiMo router, used only by bench/run.sh. It answers completions with a
// small JSON body, or with an SSE stream whose first event is sent at once; `?hold_ms=N` keeps
// a stream open for N ms (sending a comment every 100 ms) to measure many open streams.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <httplib.h>
#include <string>
#include <thread>

int main(int argc, char** argv) {
    int threads = argc > 1 ? std::atoi(argv[1]) : 64;
    httplib::Server server;
    server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server.set_tcp_nodelay(true);
    server.set_keep_alive_max_count(1000000);
    int listen_fd = -1;
    server.set_socket_options([&](socket_t sock) {
        int yes = 1;
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        listen_fd = sock;
    });
    const std::string answer =
        R"({"id":"c1","object":"chat.completion","model":"bench/model","choices":[{"index":0,)"
        R"("message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],)"
        R"("usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}})";
    const std::string event =
        "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        "\"delta\":{\"content\":\"Hello\"}}]}\n\n";
    server.Post("/api/v1/chat/completions", [&](const httplib::Request& req,
                                                httplib::Response& res) {
        if (req.body.find("\"stream\":true") == std::string::npos) {
            res.set_content(answer, "application/json");
            return;
        }
        long hold_ms =
            req.has_param("hold_ms") ? std::atol(req.get_param_value("hold_ms").c_str()) : 0;
        res.set_chunked_content_provider(
            "text/event-stream", [&, hold_ms](size_t, httplib::DataSink& sink) {
                if (!sink.write(event.data(), event.size())) {
                    return false;
                }
                auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(hold_ms);
                while (std::chrono::steady_clock::now() < until) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(100));
                    if (!sink.write(": ping\n\n", 8)) {
                        return false;
                    }
                }
                std::string tail = event + "data: [DONE]\n\n";
                sink.write(tail.data(), tail.size());
                sink.done();
                return true;
            });
    });
    int port = server.bind_to_any_port("127.0.0.1");
    ::listen(listen_fd, 4096);
    std::printf("%d\n", port);
    std::fflush(stdout);
    server.listen_after_bind();
}
