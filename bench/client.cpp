// Measurements for bench/run.sh, over raw sockets so the client adds almost nothing:
//   client ttfb PORT PATH COUNT       median and p99 time to the first body byte (µs)
//   client hold PORT PATH COUNT PID   opens COUNT streams, waits for a first byte on each,
//                                     prints PID's resident memory (MB), then hangs up
//   client paired PORT_A PATH_A TOKEN_A PORT_B PATH_B TOKEN_B COUNT [BLOCK]
//       COUNT requests to each of A and B over one keep-alive connection each, one at a time,
//       in blocks of BLOCK (default 1) back-to-back requests to one side, alternating A-B then
//       B-A so both see the same moment of a noisy machine; prints the p50 of A, the p50 of B
//       and the median over rounds of the difference of the blocks' medians, B - A (µs).
//       Back-to-back blocks also count the work a server does after answering, which delays
//       the next request on the same connection. A path ending in /messages or /responses
//       sends the same question as Anthropic Messages or a Responses request.
#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
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

int connect_to(int port) {
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
    return fd;
}

void send_all(int fd, const std::string& data) {
    if (send(fd, data.data(), data.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(data.size())) {
        std::perror("send");
        std::exit(1);
    }
}

int open_stream(int port, const std::string& path) {
    int fd = connect_to(port);
    std::string request = "POST " + path +
                          " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          "Content-Type: application/json\r\nAuthorization: Bearer bench\r\n"
                          "Content-Length: " +
                          std::to_string(body.size()) + "\r\n\r\n" + body;
    send_all(fd, request);
    return fd;
}

// One keep-alive connection sending the same small completion request again and again.
struct Peer {
    int fd;
    std::string request;
    std::string buffer;

    Peer(int port, const std::string& path, const std::string& token) : fd(connect_to(port)) {
        // The same small question in the dialect the path speaks.
        auto ends_with = [&](const std::string& tail) {
            return path.size() >= tail.size() &&
                   path.compare(path.size() - tail.size(), tail.size(), tail) == 0;
        };
        const std::string small =
            ends_with("/messages")
                ? R"({"model":"bench/model","max_tokens":64,"messages":[{"role":"user",)"
                  R"("content":"Say hello."}]})"
            : ends_with("/responses")
                ? R"({"model":"bench/model","input":"Say hello."})"
                : R"({"model":"bench/model","messages":[{"role":"user","content":"Say hello."}]})";
        request = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                  "Content-Type: application/json\r\nAuthorization: Bearer " + token +
                  "\r\nContent-Length: " + std::to_string(small.size()) + "\r\n\r\n" + small;
    }

    // Sends the request and reads the whole answer; its time in µs.
    double exchange() {
        auto start = std::chrono::steady_clock::now();
        send_all(fd, request);
        size_t need = std::string::npos;
        char chunk[4096];
        for (;;) {
            if (need == std::string::npos) {
                auto head = buffer.find("\r\n\r\n");
                if (head != std::string::npos) {
                    std::string lower = buffer.substr(0, head);
                    std::transform(lower.begin(), lower.end(), lower.begin(),
                                   [](unsigned char c) { return std::tolower(c); });
                    if (lower.compare(9, 3, "200") != 0) {
                        std::fprintf(stderr, "status is not 200: %s\n", lower.c_str());
                        std::exit(1);
                    }
                    auto at = lower.find("content-length:");
                    if (at == std::string::npos) {
                        std::fprintf(stderr, "no Content-Length in: %s\n", lower.c_str());
                        std::exit(1);
                    }
                    need = head + 4 + std::strtoul(lower.c_str() + at + 15, nullptr, 10);
                }
            }
            if (need != std::string::npos && buffer.size() >= need) {
                buffer.erase(0, need);
                break;
            }
            ssize_t n = recv(fd, chunk, sizeof chunk, 0);
            if (n <= 0) {
                std::fprintf(stderr, "connection closed\n");
                std::exit(1);
            }
            buffer.append(chunk, static_cast<size_t>(n));
        }
        return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count();
    }
};

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
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
    if ((argc == 9 || argc == 10) && std::string(argv[1]) == "paired") {
        Peer peers[2] = {Peer(std::atoi(argv[2]), argv[3], argv[4]),
                         Peer(std::atoi(argv[5]), argv[6], argv[7])};
        int count = std::atoi(argv[8]);
        int block = argc == 10 ? std::max(1, std::atoi(argv[9])) : 1;
        // The first answers of a block come from a server that sat idle during the other's
        // block: with blocks, they are left out.
        int skip = block > 4 ? 2 : 0;
        std::vector<double> samples[2];
        std::vector<double> differences;
        for (int round = 0; round < std::max(1, count / block); ++round) {
            double block_median[2] = {0, 0};
            for (int turn = 0; turn < 2; ++turn) {
                int side = (round + turn) % 2; // A-B, then B-A
                std::vector<double> times;
                for (int i = 0; i < block; ++i) {
                    double t = peers[side].exchange();
                    if (i >= skip) {
                        times.push_back(t);
                        samples[side].push_back(t);
                    }
                }
                block_median[side] = median(times);
            }
            differences.push_back(block_median[1] - block_median[0]);
        }
        std::printf("%.1f %.1f %.1f\n", median(samples[0]), median(samples[1]),
                    median(differences));
        return 0;
    }
    if (argc < 5) {
        std::fprintf(stderr, "usage: client ttfb|hold PORT PATH COUNT [PID] | paired …\n");
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
