#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace aimo::upstream {

/// Incremental server-sent-events parser: feed bytes as they arrive; `on_data` receives the
/// joined `data:` lines of each complete event. Comment lines and other fields are skipped.
class SseParser {
public:
    explicit SseParser(std::function<void(const std::string& data)> on_data)
        : m_on_data(std::move(on_data)) {}

    void feed(std::string_view bytes);
    /// Dispatches a last event that was not followed by a blank line.
    void finish();

private:
    void line(std::string_view text);
    std::function<void(const std::string&)> m_on_data;
    std::string m_partial;
    std::string m_data;
    bool m_has_data = false;
};

} // namespace aimo::upstream
