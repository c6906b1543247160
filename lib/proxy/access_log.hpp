#pragma once

#include "proxy/types.hpp"

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>

namespace aimo::proxy {

enum class LogFormat { text, json, off };

/// "text", "json" or "off"; throws core::Error(usage) otherwise.
LogFormat parse_log_format(std::string_view text);

/// One finished request, as logged. Holds no request or response content.
struct AccessRecord {
    std::string time; ///< UTC timestamp
    std::string request_id;
    std::string method;
    std::string path;
    int status = 0;
    size_t bytes = 0; ///< body bytes sent to the client
    long long total_us = 0;
    bool aborted = false; ///< the response was cut off (client gone or upstream failure)
    LogFields fields;
};

/// One line (with trailing newline) in the given format.
std::string format_access_line(const AccessRecord& record, LogFormat format);

/// Writes access log lines in batches from a background thread, so a request never waits for
/// the log's write(2). Lines appear within 100 ms; flush() and destruction write everything.
class AccessLog {
public:
    /// `out` may be nullptr (and `format` off) to log nothing.
    AccessLog(std::ostream* out, LogFormat format);
    ~AccessLog();
    AccessLog(const AccessLog&) = delete;
    AccessLog& operator=(const AccessLog&) = delete;

    /// Queues one line; thread-safe and cheap.
    void write(const AccessRecord& record);
    /// Writes every queued line now.
    void flush();
    /// Writes what is queued and lets go of the stream: later lines are dropped. For an owner
    /// that goes away while requests it no longer waits for may still finish.
    void close();

private:
    void drain(std::unique_lock<std::mutex>& lock);

    std::atomic<std::ostream*> m_out;
    LogFormat m_format;
    std::mutex m_mutex;
    std::mutex m_write_mutex; // orders batches on the stream
    std::condition_variable m_wake;
    std::string m_pending;
    bool m_stopping = false;
    std::thread m_thread;
};

} // namespace aimo::proxy
