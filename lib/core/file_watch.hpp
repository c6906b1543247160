#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace aimo::core {

/// Calls `on_change` on its own thread whenever the file at `path` appears, disappears or is
/// replaced or rewritten (its inode, size or modification time changes), checking every
/// `interval`. Polling, unlike inotify, also follows editors that rename a new file into place.
class FileWatcher {
public:
    FileWatcher(std::filesystem::path path, std::chrono::milliseconds interval,
                std::function<void()> on_change);
    ~FileWatcher();
    FileWatcher(const FileWatcher&) = delete;
    FileWatcher& operator=(const FileWatcher&) = delete;

private:
    std::string identity() const;

    std::filesystem::path m_path;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stopping = false;
    std::thread m_thread;
};

} // namespace aimo::core
