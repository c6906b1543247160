#include "subprocess.hpp"

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace aimo::test {

namespace {
struct Spawned {
    pid_t pid;
    int in_fd;
    int out_fd;
    int err_fd;
};

Spawned spawn(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
              bool with_pipes_for_io) {
    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) || pipe2(out_pipe, O_CLOEXEC) || pipe2(err_pipe, O_CLOEXEC)) {
        throw std::runtime_error("pipe failed");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    if (with_pipes_for_io) {
        posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    } else {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    }
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    // Find the program on the child's PATH, not ours.
    std::string program = argv[0];
    if (program.find('/') == std::string::npos && env.count("PATH")) {
        std::string dirs = env.at("PATH");
        for (size_t start = 0; start <= dirs.size();) {
            size_t end = dirs.find(':', start);
            std::string candidate =
                dirs.substr(start, end == std::string::npos ? std::string::npos : end - start) +
                "/" + argv[0];
            if (access(candidate.c_str(), X_OK) == 0) {
                program = candidate;
                break;
            }
            if (end == std::string::npos) {
                break;
            }
            start = end + 1;
        }
    }
    std::vector<char*> args;
    args.push_back(program.data());
    for (size_t i = 1; i < argv.size(); ++i) {
        args.push_back(const_cast<char*>(argv[i].c_str()));
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
    int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0) {
        throw std::runtime_error("cannot start " + argv[0]);
    }
    return {pid, in_pipe[1], out_pipe[0], err_pipe[0]};
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
    Spawned child = spawn(argv, env, true);
    // Write input from a thread so a child that prints a lot before reading cannot deadlock us.
    std::thread writer([&] {
        size_t done = 0;
        while (done < input.size()) {
            ssize_t n = write(child.in_fd, input.data() + done, input.size() - done);
            if (n <= 0) {
                break;
            }
            done += static_cast<size_t>(n);
        }
        close(child.in_fd);
    });
    ProcessResult result;
    pollfd fds[2] = {{child.out_fd, POLLIN, 0}, {child.err_fd, POLLIN, 0}};
    int open_fds = 2;
    char buffer[65536];
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            continue;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP))) {
                ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
                if (n <= 0) {
                    close(fds[i].fd);
                    fds[i].fd = -1;
                    --open_fds;
                } else {
                    (i == 0 ? result.out : result.err).append(buffer, static_cast<size_t>(n));
                }
            }
        }
    }
    writer.join();
    int status = 0;
    waitpid(child.pid, &status, 0);
    result.code = decode_status(status);
    return result;
}

Subprocess::Subprocess(const std::vector<std::string>& argv,
                       const std::map<std::string, std::string>& env) {
    Spawned child = spawn(argv, env, false);
    close(child.in_fd);
    close(child.out_fd);
    m_pid = child.pid;
    m_err_fd = child.err_fd;
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
