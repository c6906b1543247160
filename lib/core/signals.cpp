#include "core/signals.hpp"

#include <csignal>
#include <cstring>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace aimo::core {

static_assert(sizeof(sigset_t) <= sizeof(unsigned long[16]));

SignalWatcher::SignalWatcher(std::function<void(int)> on_signal) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, reinterpret_cast<sigset_t*>(m_old_mask));
    m_signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
    m_stop_fd = eventfd(0, EFD_CLOEXEC);
    m_thread = std::thread([this, on_signal = std::move(on_signal)] {
        pollfd fds[2] = {{m_signal_fd, POLLIN, 0}, {m_stop_fd, POLLIN, 0}};
        for (;;) {
            if (poll(fds, 2, -1) < 0) {
                continue;
            }
            if (fds[1].revents != 0) {
                return;
            }
            signalfd_siginfo info{};
            if (read(m_signal_fd, &info, sizeof info) == sizeof info) {
                on_signal(static_cast<int>(info.ssi_signo));
            }
        }
    });
}

SignalWatcher::~SignalWatcher() {
    uint64_t one = 1;
    (void)!write(m_stop_fd, &one, sizeof one);
    m_thread.join();
    close(m_signal_fd);
    close(m_stop_fd);
    pthread_sigmask(SIG_SETMASK, reinterpret_cast<sigset_t*>(m_old_mask), nullptr);
}

} // namespace aimo::core
