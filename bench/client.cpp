// Stream measurements for bench/run.sh, over raw sockets so the client adds almost nothing:
//   stream_client ttfb PORT PATH COUNT       median and p99 time to the first body byte (µs)
//   stream_client hold PORT PATH COUNT PID   opens COUNT streams, waits for a first byte on each,
//                                            prints PID's resident memory (MB), then hangs up
#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {
const std::string body = R"({"model":"bench/model","stream":true,"messages":[{"role":"user",)"
                         R"("content":"hello"}]})";

int open_stream(int port, const std::string& path) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("connect");
        std::exit(1);
    }
    std::string request = "POST " + path +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Type: application/json\r\nAuthorization: Bearer bench\r\n"
                          "Content-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
        std::perror("send");
        std::exit(1);
    }
    return fd;
}

// Reads until the response headers are complete and at least one body byte has arrived.
bool wait_first_byte(int fd, std::string& buffer) {
    char chunk[4096];
    for (;;) {
        auto head = buffer.find("\r\n\r\n");
        if (head != std::string::npos && buffer.size() > head + 4) {
            return true;
        }
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) {
            return false;
        }
        buffer.append(chunk, static_cast<size_t>(n));
    }
}

long rss_mb(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    while (status >> key) {
        if (key == "VmRSS:") {
            long kb = 0;
            status >> kb;
            return kb / 1024;
        }
    }
    return -1;
}
} // namespace

int main(int argc, char** argv) {
    if (argc < 5) {
        std::fprintf(stderr, "usage: stream_client ttfb|hold PORT PATH COUNT [PID]\n");
        return 2;
    }
    std::string mode = argv[1];
    int port = std::atoi(argv[2]);
    std::string path = argv[3];
    int count = std::atoi(argv[4]);
    if (mode == "ttfb") {
        std::vector<double> samples;
        for (int i = 0; i < count; ++i) {
            auto start = std::chrono::steady_clock::now();
            int fd = open_stream(port, path);
            std::string buffer;
            if (!wait_first_byte(fd, buffer)) {
                std::fprintf(stderr, "stream %d failed\n", i);
                return 1;
            }
            auto us =
                std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
                    .count();
            samples.push_back(us);
            close(fd);
        }
        std::sort(samples.begin(), samples.end());
        std::printf("%.1f %.1f\n", samples[samples.size() / 2], samples[samples.size() * 99 / 100]);
        return 0;
    }
    int pid = argc > 5 ? std::atoi(argv[5]) : 0;
    std::vector<int> fds;
    for (int i = 0; i < count; ++i) {
        fds.push_back(open_stream(port, path));
    }
    int ready = 0;
    for (int fd : fds) {
        std::string buffer;
        ready += wait_first_byte(fd, buffer) ? 1 : 0;
    }
    std::printf("%d %ld\n", ready, rss_mb(pid));
    std::fflush(stdout);
    for (int fd : fds) {
        close(fd);
    }
    return ready == count ? 0 : 1;
}
