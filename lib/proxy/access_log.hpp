#pragma once

#include "proxy/types.hpp"

#include <cstddef>
#include <string>
#include <string_view>

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

} // namespace aimo::proxy
