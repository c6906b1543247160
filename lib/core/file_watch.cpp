#include "core/file_watch.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

namespace aimo::core {

FileWatcher::FileWatcher(std::filesystem::path path, std::chrono::milliseconds interval,
                         std::function<void()> on_change)
    : m_path(std::move(path)) {
    m_thread = std::thread([this, interval, on_change = std::move(on_change)] {
        std::string last = identity();
        std::unique_lock lock(m_mutex);
        while (!m_wake.wait_for(lock, interval, [this] { return m_stopping; })) {
            lock.unlock();
            std::string now = identity();
            if (now != last) {
                last = now;
                on_change();
            }
            lock.lock();
        }
    });
}

FileWatcher::~FileWatcher() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

std::string FileWatcher::identity() const {
    struct stat info {};
    if (::stat(m_path.c_str(), &info) != 0) {
        return "absent";
    }
    return fmt::format("{}:{}:{}:{}.{}", info.st_dev, info.st_ino, info.st_size,
                       info.st_mtim.tv_sec, info.st_mtim.tv_nsec);
}

} // namespace aimo::core
