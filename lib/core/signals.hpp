#pragma once

#include <functional>
#include <thread>

namespace aimo::core {

/// Turns SIGINT, SIGTERM and SIGHUP into a callback on a dedicated thread, so a server can stop
/// cleanly instead of dying. Construct it before starting any other thread: it blocks the
/// signals in the constructing thread, and threads started later inherit that. The previous
/// signal mask is restored on destruction.
class SignalWatcher {
public:
    explicit SignalWatcher(std::function<void(int signal)> on_signal);
    ~SignalWatcher();
    SignalWatcher(const SignalWatcher&) = delete;
    SignalWatcher& operator=(const SignalWatcher&) = delete;

private:
    int m_signal_fd = -1;
    int m_stop_fd = -1;
    std::thread m_thread;
    unsigned long m_old_mask[16] = {}; // sigset_t storage without including <signal.h> here
};

} // namespace aimo::core
