#include "proxy/access_log.hpp"

#include "core/error.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace aimo::proxy {

LogFormat parse_log_format(std::string_view text) {
    if (text == "text") {
        return LogFormat::text;
    }
    if (text == "json") {
        return LogFormat::json;
    }
    if (text == "off") {
        return LogFormat::off;
    }
    throw core::Error(core::ErrorKind::usage, fmt::format("unknown log format '{}'", text),
                      "use --log-format text, json or off");
}

std::string format_access_line(const AccessRecord& r, LogFormat format) {
    if (format == LogFormat::json) {
        nlohmann::json line = {{"time", r.time},
                               {"request_id", r.request_id},
                               {"method", r.method},
                               {"path", r.path},
                               {"model", r.fields.model},
                               {"status", r.status},
                               {"bytes", r.bytes},
                               {"duration_us", r.total_us},
                               {"upstream_us", r.fields.upstream_us},
                               {"overhead_us", r.fields.overhead_us}};
        if (!r.fields.provider.empty()) {
            line["provider"] = r.fields.provider;
            line["attempts"] = r.fields.attempts;
        }
        if (r.aborted) {
            line["aborted"] = true;
        }
        return line.dump() + "\n";
    }
    std::string upstream =
        r.fields.upstream_us < 0 ? std::string("-") : std::to_string(r.fields.upstream_us);
    std::string routing =
        r.fields.provider.empty()
            ? std::string()
            : fmt::format(" provider={} attempts={}", r.fields.provider, r.fields.attempts);
    return fmt::format("{} {} {} {} model={} status={} bytes={} duration_us={} upstream_us={} "
                       "overhead_us={}{}{}\n",
                       r.time, r.request_id, r.method, r.path,
                       r.fields.model.empty() ? "-" : r.fields.model, r.status, r.bytes, r.total_us,
                       upstream, r.fields.overhead_us, routing, r.aborted ? " aborted" : "");
}

AccessLog::AccessLog(std::ostream* out, LogFormat format)
    : m_out(format == LogFormat::off ? nullptr : out), m_format(format) {
    if (m_out == nullptr) {
        return;
    }
    m_thread = std::thread([this] {
        std::unique_lock lock(m_mutex);
        while (!m_stopping) {
            m_wake.wait_for(lock, std::chrono::milliseconds(100));
            drain(lock);
        }
    });
}

AccessLog::~AccessLog() {
    if (m_thread.joinable()) {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_wake.notify_all();
        m_thread.join();
    }
    flush();
}

void AccessLog::write(const AccessRecord& record) {
    if (m_out == nullptr) {
        return;
    }
    std::string line = format_access_line(record, m_format);
    std::lock_guard lock(m_mutex);
    m_pending += line;
    if (m_pending.size() > 64 * 1024) {
        m_wake.notify_one();
    }
}

void AccessLog::flush() {
    if (m_out == nullptr) {
        return;
    }
    std::unique_lock lock(m_mutex);
    drain(lock);
}

void AccessLog::drain(std::unique_lock<std::mutex>& lock) {
    if (m_pending.empty()) {
        return;
    }
    std::string batch;
    batch.swap(m_pending);
    std::lock_guard write_lock(m_write_mutex);
    lock.unlock();
    m_out->write(batch.data(), static_cast<std::streamsize>(batch.size()));
    m_out->flush();
    lock.lock();
}

} // namespace aimo::proxy
