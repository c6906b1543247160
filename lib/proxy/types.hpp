#pragma once

#include "core/headers.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aimo::proxy {

using core::Headers;

/// A client request as the handler sees it, independent of the HTTP library.
struct Request {
    std::string method;
    std::string path;  ///< percent-decoded path, e.g. /v1/models/deepseek/deepseek-v3.2
    std::string query; ///< raw query string without '?'
    Headers headers;   ///< as received
    std::string_view body;
    /// A body aimo wrote in the client's place (a translated dialect's), kept alive with the
    /// request's dispatch; `body` points into it. Null for a body as received.
    std::shared_ptr<const std::string> owned_body;
    /// The API the client spoke, for the record: "" (OpenAI's own), "messages", "responses".
    std::string_view dialect;
    std::string id; ///< the x-request-id this request's response carries
    /// True once the client has closed its connection (asked while the answer is awaited);
    /// null when nobody can tell.
    std::function<bool()> client_gone;
    /// The client's address ("127.0.0.1"), asked when needed; null when nobody can tell.
    std::function<std::string()> peer;

    /// The first header named `name`, compared case-insensitively; empty when absent.
    std::string header(std::string_view name) const { return headers.value(name); }
};

/// Pulls the next piece of a streamed body into `chunk`; false when the body is complete.
using BodyStream = std::function<bool(std::string& chunk)>;

/// Timing and labels for the access log; never request or response content.
struct LogFields {
    std::string model;
    std::string provider;       ///< the provider that answered (or was tried last)
    std::string attempts;       ///< every attempt, "aimo:503,ollama:200"
    long long upstream_us = -1; ///< until the upstream's headers arrived; -1 when not called
    long long overhead_us = 0;  ///< time spent in aimo before the answer could start
};

/// What the handler answers. When `stream` is set the body is sent chunked as the stream
/// yields it and `body` is ignored.
struct Response {
    int status = 200;
    std::string content_type = "application/json";
    Headers headers;
    std::string body;
    BodyStream stream;
    LogFields log;
    /// When set, the access log takes its fields from here once the stream has ended (they
    /// are only known after the response had to start).
    std::shared_ptr<const LogFields> final_log;
};

} // namespace aimo::proxy
