#include "subprocess.hpp"

#include "core/process.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <regex>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <tuple>
#include <unistd.h>

namespace aimo::test {

int banner_port(const std::string& banner) {
    std::smatch match;
    REQUIRE(std::regex_search(banner, match, std::regex(R"(base URL: http://[^/]+:(\d+)/v1)")));
    return std::stoi(match[1]);
}

namespace {
// Starts a background child with stdin and stdout on /dev/null; returns its pid and the read
// end of its stderr. `argv[0]` must be a path (tests pass AIMO_BINARY).
std::pair<pid_t, int> spawn_with_stderr(const std::vector<std::string>& argv,
                                        const std::map<std::string, std::string>& env) {
    int err_pipe[2];
    if (pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : env) {
        env_strings.push_back(k + "=" + v);
    }
    std::vector<char*> envp;
    for (auto& e : env_strings) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(err_pipe[1]);
    if (rc != 0) {
        close(err_pipe[0]);
        throw std::runtime_error("cannot start " + argv[0]);
    }
    return {pid, err_pipe[0]};
}

int decode_status(int status) {
    if (WIFEXITED(status)) {
        return WEXITSTATUS(status);
    }
    if (WIFSIGNALED(status)) {
        return 128 + WTERMSIG(status);
    }
    return -1;
}
} // namespace

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env, const std::string& input) {
    auto output = core::run_process(argv, env, {false, input});
    return {output.exit_code, output.out, output.err};
}

Subprocess::Subprocess(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env) {
    std::tie(m_pid, m_err_fd) = spawn_with_stderr(argv, env);
}

Subprocess::~Subprocess() {
    if (!m_exited && m_pid > 0) {
        kill(m_pid, SIGKILL);
        waitpid(m_pid, nullptr, 0);
    }
    if (m_err_fd >= 0) {
        close(m_err_fd);
    }
}

void Subprocess::pump(int timeout_ms) {
    if (m_err_fd < 0) {
        return;
    }
    pollfd fd{m_err_fd, POLLIN, 0};
    if (poll(&fd, 1, timeout_ms) > 0) {
        char buffer[4096];
        ssize_t n = read(m_err_fd, buffer, sizeof buffer);
        if (n <= 0) {
            close(m_err_fd);
            m_err_fd = -1;
        } else {
            m_err.append(buffer, static_cast<size_t>(n));
        }
    }
}

bool Subprocess::wait_for_stderr(const std::string& text, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (m_err.find(text) == std::string::npos) {
        if (m_err_fd < 0 || std::chrono::steady_clock::now() > deadline) {
            return false;
        }
        pump(50);
    }
    return true;
}

void Subprocess::signal(int sig) {
    kill(m_pid, sig);
}

int Subprocess::wait(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!m_exited) {
        int status = 0;
        pid_t done = waitpid(m_pid, &status, WNOHANG);
        if (done == m_pid) {
            m_exited = true;
            m_status = decode_status(status);
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            return -1;
        }
        if (m_err_fd >= 0) {
            pump(20);
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    }
    while (m_err_fd >= 0) {
        pump(100);
    }
    return m_status;
}

std::string Subprocess::stderr_text() {
    pump(0);
    return m_err;
}

} // namespace aimo::test
