#include "core/process.hpp"

#include "core/error.hpp"
#include "core/text.hpp"

#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace aimo::core {

namespace {
// The first executable regular file named `name` in the colon-separated `path`; empty entries
// (the current directory) are not searched.
std::optional<std::filesystem::path> search_path(const std::string& name, const std::string& path) {
    for (const auto& dir : split_list(path, ':')) {
        auto candidate = std::filesystem::path(dir) / name;
        std::error_code ec;
        if (::access(candidate.c_str(), X_OK) == 0 &&
            std::filesystem::is_regular_file(candidate, ec)) {
            return candidate;
        }
    }
    return std::nullopt;
}
} // namespace

std::optional<std::filesystem::path> find_executable(const Context& ctx, const std::string& name) {
    return search_path(name, ctx.getenv("PATH").value_or(""));
}

ProcessOutput run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env,
                          const ProcessOptions& options) {
    std::map<std::string, std::string> merged;
    for (char** e = environ; options.inherit_environment && *e != nullptr; ++e) {
        std::string entry(*e);
        auto eq = entry.find('=');
        if (eq != std::string::npos) {
            merged[entry.substr(0, eq)] = entry.substr(eq + 1);
        }
    }
    for (const auto& [key, value] : env) {
        merged[key] = value;
    }
    std::vector<std::string> env_strings;
    for (const auto& [key, value] : merged) {
        env_strings.push_back(key + "=" + value);
    }
    std::vector<char*> envp;
    for (auto& e : env_strings) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);
    // A bare name is looked up on the child's PATH, not ours.
    std::string program = argv.at(0);
    if (program.find('/') == std::string::npos) {
        if (auto found = search_path(program, merged.count("PATH") ? merged["PATH"] : "")) {
            program = found->string();
        }
    }
    std::vector<char*> args = {program.data()};
    for (size_t i = 1; i < argv.size(); ++i) {
        args.push_back(const_cast<char*>(argv[i].c_str()));
    }
    args.push_back(nullptr);

    int in_pipe[2], out_pipe[2], err_pipe[2];
    if (pipe2(in_pipe, O_CLOEXEC) != 0 || pipe2(out_pipe, O_CLOEXEC) != 0 ||
        pipe2(err_pipe, O_CLOEXEC) != 0) {
        throw Error(ErrorKind::io, std::string("cannot create a pipe: ") + std::strerror(errno));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    close(in_pipe[0]);
    close(out_pipe[1]);
    close(err_pipe[1]);
    if (rc != 0) {
        close(in_pipe[1]);
        close(out_pipe[0]);
        close(err_pipe[0]);
        throw Error(ErrorKind::io, "cannot run " + argv[0] + ": " + std::strerror(rc));
    }
    // Feed stdin from a thread so a child that writes a lot before reading cannot deadlock us.
    std::thread writer([fd = in_pipe[1], &input = options.input] {
        size_t done = 0;
        while (done < input.size()) {
            ssize_t n = ::write(fd, input.data() + done, input.size() - done);
            if (n <= 0) {
                break;
            }
            done += static_cast<size_t>(n);
        }
        close(fd);
    });
    ProcessOutput output;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    char buffer[65536];
    while (open_fds > 0) {
        if (poll(fds, 2, -1) < 0) {
            continue;
        }
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
                if (n <= 0) {
                    close(fds[i].fd);
                    fds[i].fd = -1;
                    --open_fds;
                } else {
                    (i == 0 ? output.out : output.err).append(buffer, static_cast<size_t>(n));
                }
            }
        }
    }
    writer.join();
    int status = 0;
    waitpid(pid, &status, 0);
    output.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return output;
}

} // namespace aimo::core
