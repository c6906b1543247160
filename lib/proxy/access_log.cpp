#include "proxy/access_log.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/text.hpp"

#include <fmt/format.h>

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
    // Method, path and model come from the client: escaped, they cannot break the line (or the
    // JSON) however they were sent.
    std::string method = core::printable(r.method);
    std::string path = core::printable(r.path);
    std::string model = core::printable(r.fields.model);
    if (format == LogFormat::json) {
        nlohmann::json line = {{"time", r.time},
                               {"request_id", r.request_id},
                               {"method", method},
                               {"path", path},
                               {"model", model},
                               {"status", r.status},
                               {"bytes", r.bytes},
                               {"duration_us", r.total_us},
                               {"upstream_us", r.fields.upstream_us},
                               {"overhead_us", r.fields.overhead_us}};
        if (!r.fields.provider.empty()) {
            line["provider"] = core::printable(r.fields.provider);
            line["attempts"] = core::printable(r.fields.attempts);
        }
        if (r.aborted) {
            line["aborted"] = true;
        }
        return core::json_text(line) + "\n";
    }
    std::string upstream =
        r.fields.upstream_us < 0 ? std::string("-") : std::to_string(r.fields.upstream_us);
    std::string routing =
        r.fields.provider.empty()
            ? std::string()
            : fmt::format(" provider={} attempts={}", r.fields.provider, r.fields.attempts);
    return fmt::format("{} {} {} {} model={} status={} bytes={} duration_us={} upstream_us={} "
                       "overhead_us={}{}{}\n",
                       r.time, r.request_id, method, path, model.empty() ? "-" : model, r.status,
                       r.bytes, r.total_us, upstream, r.fields.overhead_us, routing,
                       r.aborted ? " aborted" : "");
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
    close();
}

void AccessLog::close() {
    if (m_thread.joinable()) {
        {
            std::lock_guard lock(m_mutex);
            m_stopping = true;
        }
        m_wake.notify_all();
        m_thread.join();
    }
    std::unique_lock lock(m_mutex);
    drain(lock);
    std::lock_guard write_lock(m_write_mutex);
    m_out = nullptr;
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
    if (auto* out = m_out.load()) {
        out->write(batch.data(), static_cast<std::streamsize>(batch.size()));
        out->flush();
    }
    lock.lock();
}

} // namespace aimo::proxy
