#pragma once

#include <map>
#include <string>
#include <vector>

namespace aimo::test {

/// A finished child process.
struct ProcessResult {
    int code = -1; ///< exit code, or 128 + signal number when killed
    std::string out;
    std::string err;
};

/// Runs `argv` to completion with `env` as its whole environment and `input` on stdin.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::map<std::string, std::string>& env,
                          const std::string& input = "");

/// The port in the "base URL: http://HOST:PORT/v1" line of `aimo serve`'s start-up banner;
/// fails the test when there is none.
int banner_port(const std::string& banner);

/// A child process running in the background; stderr is collected so tests can wait for a
/// line (e.g. the serve banner). Killed on destruction if still running.
class Subprocess {
public:
    Subprocess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env);
    ~Subprocess();
    Subprocess(const Subprocess&) = delete;
    Subprocess& operator=(const Subprocess&) = delete;

    /// Waits until stderr contains `text` or the child exits; false on timeout or exit.
    bool wait_for_stderr(const std::string& text, int timeout_ms = 10000);
    /// Sends a signal.
    void signal(int sig);
    /// Waits for exit and returns the exit code (128 + signal when killed); -1 on timeout.
    int wait(int timeout_ms = 20000);
    /// Everything read from stderr so far.
    std::string stderr_text();

private:
    void pump(int timeout_ms);
    int m_pid = -1;
    int m_err_fd = -1;
    int m_status = -1;
    bool m_exited = false;
    std::string m_err;
};

} // namespace aimo::test
