#include "proxy/http_parse.hpp"

#include "core/text.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <optional>

namespace aimo::proxy {

namespace {
constexpr size_t max_line_bytes = 8 * 1024; // a chunk-size line or a trailer line

bool is_tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        return true;
    }
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool is_token(std::string_view text) {
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return is_tchar(static_cast<unsigned char>(c));
    });
}

HttpError bad(std::string message, std::string code = "bad_request") {
    return {400, std::move(code), std::move(message)};
}

std::optional<uint64_t> decimal(std::string_view text) {
    if (text.empty() || text.size() > 18) {
        return std::nullopt;
    }
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    return value;
}

// The request line: method, target (split into path and query) and version.
std::optional<HttpError> parse_request_line(std::string_view line, RequestHead& head) {
    size_t first = line.find(' ');
    size_t last = line.rfind(' ');
    if (first == std::string_view::npos || first == last) {
        return bad(fmt::format("malformed request line '{}': expected METHOD PATH HTTP/1.1",
                               core::printable(line.substr(0, 200))));
    }
    auto method = line.substr(0, first);
    auto target = line.substr(first + 1, last - first - 1);
    auto version = line.substr(last + 1);
    if (!is_token(method)) {
        return bad(fmt::format("malformed request line: the method '{}' is not an HTTP token",
                               core::printable(method.substr(0, 64))));
    }
    if (version == "HTTP/1.1" || version == "HTTP/1.0") {
        head.minor_version = version.back() - '0';
    } else if (version.size() == 8 && version.substr(0, 5) == "HTTP/" &&
               std::isdigit(static_cast<unsigned char>(version[5])) && version[6] == '.' &&
               std::isdigit(static_cast<unsigned char>(version[7]))) {
        return HttpError{505, "http_version_not_supported",
                         fmt::format("{} is not supported; aimo speaks HTTP/1.1", version)};
    } else {
        return bad(fmt::format("malformed request line: '{}' is not an HTTP version",
                               core::printable(version.substr(0, 64))));
    }
    if (target.size() > max_target_bytes) {
        return HttpError{
            414, "uri_too_long",
            fmt::format("the request target is longer than {} bytes", max_target_bytes)};
    }
    for (size_t i = 0; i < target.size(); ++i) {
        auto c = static_cast<unsigned char>(target[i]);
        if (c <= 0x20 || c >= 0x7F) {
            return bad(fmt::format("the request target has byte 0x{:02x} at position {}, which "
                                   "must be percent-encoded",
                                   c, i));
        }
    }
    // Absolute form (a client configured to use aimo as an HTTP proxy): keep the path.
    if (target.size() > 7 && (core::iequals(target.substr(0, 7), "http://") ||
                              core::iequals(target.substr(0, 8), "https://"))) {
        size_t authority = target.find("://") + 3;
        size_t path = target.find_first_of("/?", authority);
        target = path == std::string_view::npos ? std::string_view("/") : target.substr(path);
        if (target.front() == '?') {
            return bad("an absolute request target needs a path, e.g. http://host/v1/models");
        }
    }
    if (target.front() != '/' && target != "*") {
        return bad(fmt::format("the request target '{}' is not a path such as "
                               "/v1/chat/completions",
                               core::printable(target.substr(0, 200))));
    }
    size_t question = target.find('?');
    if (question != std::string_view::npos) {
        head.query = std::string(target.substr(question + 1));
    }
    auto raw_path = target.substr(0, question);
    auto path = percent_decode(raw_path);
    if (!path) {
        return bad(fmt::format("the path '{}' has a malformed %-escape",
                               core::printable(raw_path.substr(0, 200))),
                   "invalid_path");
    }
    bool control = std::any_of(path->begin(), path->end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
    });
    if (control || !core::is_utf8(*path)) {
        return bad(fmt::format("the path '{}' is not valid UTF-8 text once its %-escapes are "
                               "decoded",
                               core::printable(path->substr(0, 200))),
                   "invalid_path");
    }
    head.path = std::move(*path);
    head.method = std::string(method);
    return std::nullopt;
}

// Reads the headers that decide how the body is framed and whether the connection stays open.
std::optional<HttpError> apply_framing(RequestHead& head) {
    bool chunked = false;
    bool has_encoding = false;
    std::optional<uint64_t> length;
    bool close = false;
    bool keep_alive = false;
    std::string content_encoding;
    for (const auto& [name, value] : head.headers) {
        if (core::iequals(name, "transfer-encoding")) {
            std::optional<HttpError> error;
            core::for_each_list_item(value, [&](std::string_view coding) {
                if (chunked) {
                    error = bad("Transfer-Encoding lists a coding after chunked");
                } else if (core::iequals(coding, "chunked")) {
                    chunked = true;
                } else if (!error) {
                    error = HttpError{501, "not_implemented",
                                      fmt::format("Transfer-Encoding '{}' is not supported; send "
                                                  "the body with Content-Length or as plain "
                                                  "chunked",
                                                  core::printable(coding))};
                }
            });
            if (error) {
                return error;
            }
            has_encoding = true;
        } else if (core::iequals(name, "content-length")) {
            std::optional<HttpError> error;
            core::for_each_list_item(value, [&](std::string_view item) {
                auto parsed = decimal(item);
                if (!parsed) {
                    error = bad(fmt::format("Content-Length '{}' is not a number of bytes",
                                            core::printable(item.substr(0, 64))));
                } else if (length && *length != *parsed) {
                    error = bad("several different Content-Length values");
                } else {
                    length = parsed;
                }
            });
            if (error) {
                return error;
            }
            if (value.empty() || core::trim_ows(value).empty()) {
                return bad("an empty Content-Length");
            }
        } else if (core::iequals(name, "connection")) {
            core::for_each_list_item(value, [&](std::string_view option) {
                close = close || core::iequals(option, "close");
                keep_alive = keep_alive || core::iequals(option, "keep-alive");
            });
        } else if (core::iequals(name, "expect")) {
            if (!core::iequals(core::trim_ows(value), "100-continue")) {
                return HttpError{417, "expectation_failed",
                                 fmt::format("Expect '{}' is not supported",
                                             core::printable(value.substr(0, 64)))};
            }
            head.expect_continue = true;
        } else if (core::iequals(name, "content-encoding")) {
            content_encoding = core::trim_ows(value);
        }
    }
    if (has_encoding && !chunked) {
        return bad("Transfer-Encoding is empty");
    }
    if (chunked && length) {
        // RFC 9112 §6.1: a message with both is a smuggling attempt or a broken client.
        return bad("the request has both Content-Length and Transfer-Encoding; send one");
    }
    if (chunked && head.minor_version == 0) {
        return bad("HTTP/1.0 has no chunked transfer coding");
    }
    if (chunked) {
        head.body = RequestHead::Body::chunked;
    } else if (length && *length > 0) {
        head.body = RequestHead::Body::length;
        head.content_length = *length;
    }
    if (head.body != RequestHead::Body::none && !content_encoding.empty() &&
        !core::iequals(content_encoding, "identity")) {
        return HttpError{415, "unsupported_media_type",
                         fmt::format("compressed request bodies (Content-Encoding: {}) are not "
                                     "accepted; send the body uncompressed",
                                     core::printable(content_encoding))};
    }
    head.keep_alive = head.minor_version == 1 ? !close : keep_alive && !close;
    return std::nullopt;
}
} // namespace

size_t leading_blank_lines(std::string_view buffer) {
    size_t i = 0;
    while (i < buffer.size() && (buffer[i] == '\r' || buffer[i] == '\n')) {
        ++i;
    }
    return i;
}

size_t find_head_end(std::string_view buffer) {
    size_t pos = 0;
    for (;;) {
        size_t lf = buffer.find('\n', pos);
        if (lf == std::string_view::npos || lf + 1 >= buffer.size()) {
            return 0;
        }
        if (buffer[lf + 1] == '\n') {
            return lf + 2;
        }
        if (buffer[lf + 1] == '\r') {
            if (lf + 2 >= buffer.size()) {
                return 0;
            }
            if (buffer[lf + 2] == '\n') {
                return lf + 3;
            }
        }
        pos = lf + 1;
    }
}

std::optional<std::string> percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    auto hex = [](char c) {
        return (c >= '0' && c <= '9')   ? c - '0'
               : (c >= 'a' && c <= 'f') ? c - 'a' + 10
               : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                        : -1;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '%') {
            out += text[i];
            continue;
        }
        if (i + 2 >= text.size() || hex(text[i + 1]) < 0 || hex(text[i + 2]) < 0) {
            return std::nullopt;
        }
        out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
        i += 2;
    }
    return out;
}

std::variant<RequestHead, HttpError> parse_request_head(std::string_view head) {
    RequestHead out;
    bool first = true;
    size_t count = 0;
    while (!head.empty()) {
        size_t lf = head.find('\n');
        auto line = head.substr(0, lf);
        head.remove_prefix(lf == std::string_view::npos ? head.size() : lf + 1);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.find('\r') != std::string_view::npos) {
            return bad("a bare CR in the request head");
        }
        if (first) {
            first = false;
            if (auto error = parse_request_line(line, out)) {
                return *error;
            }
            continue;
        }
        if (line.empty()) {
            break; // the end of the head
        }
        if (line.front() == ' ' || line.front() == '\t') {
            return bad("obsolete line folding in a header (a line starting with a space)");
        }
        size_t colon = line.find(':');
        auto name = line.substr(0, colon);
        if (colon == std::string_view::npos || !is_token(name)) {
            return bad(fmt::format("malformed header line '{}': expected 'Name: value'",
                                   core::printable(line.substr(0, 100))));
        }
        auto value = core::trim_ows(line.substr(colon + 1));
        for (char c : value) {
            auto u = static_cast<unsigned char>(c);
            if ((u < 0x20 && u != '\t') || u == 0x7F) {
                return bad(fmt::format("header '{}' has control character 0x{:02x}",
                                       std::string(name), u));
            }
        }
        if (++count > max_header_count) {
            return HttpError{431, "request_header_fields_too_large",
                             fmt::format("more than {} header lines", max_header_count)};
        }
        out.headers.add(std::string(name), std::string(value));
    }
    if (first) {
        return bad("an empty request");
    }
    if (auto error = apply_framing(out)) {
        return *error;
    }
    return out;
}

ChunkedDecoder::Status ChunkedDecoder::fail(std::string what) {
    m_error = std::move(what);
    return Status::error;
}

ChunkedDecoder::Status ChunkedDecoder::feed(std::string_view in, std::string& out, size_t& used) {
    used = 0;
    while (used < in.size()) {
        switch (m_state) {
        case State::data: {
            size_t take = static_cast<size_t>(std::min<uint64_t>(m_remaining, in.size() - used));
            out.append(in.substr(used, take));
            used += take;
            m_remaining -= take;
            if (m_remaining == 0) {
                m_state = State::data_end;
            }
            break;
        }
        case State::data_end: {
            char c = in[used++];
            if (c == '\r' && m_line.empty()) {
                m_line.push_back(c); // the CR of the CRLF that ends chunk data
            } else if (c == '\n') {
                m_line.clear();
                m_state = State::size;
            } else {
                return fail("chunk data is not followed by CRLF");
            }
            break;
        }
        case State::size:
        case State::trailer: {
            size_t lf = in.find('\n', used);
            size_t end = lf == std::string_view::npos ? in.size() : lf;
            m_line.append(in.substr(used, end - used));
            used = lf == std::string_view::npos ? in.size() : lf + 1;
            if (m_line.size() > max_line_bytes) {
                return fail(m_state == State::size ? "a chunk-size line is longer than 8 KiB"
                                                   : "a trailer line is longer than 8 KiB");
            }
            if (lf == std::string_view::npos) {
                return Status::more;
            }
            std::string_view line = m_line;
            if (!line.empty() && line.back() == '\r') {
                line.remove_suffix(1);
            }
            if (m_state == State::trailer) {
                bool last = line.empty();
                m_line.clear();
                if (last) {
                    return Status::done;
                }
                break; // trailer fields are read and dropped
            }
            size_t digits = 0;
            uint64_t size = 0;
            while (digits < line.size() &&
                   std::isxdigit(static_cast<unsigned char>(line[digits]))) {
                if (digits == 15) {
                    return fail("a chunk size is too large");
                }
                char c = line[digits];
                size =
                    size * 16 + static_cast<uint64_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
                ++digits;
            }
            auto rest = core::trim_ows(line.substr(digits));
            if (digits == 0 || (!rest.empty() && rest.front() != ';')) {
                return fail(fmt::format("malformed chunk-size line '{}'",
                                        core::printable(line.substr(0, 64))));
            }
            m_line.clear();
            if (size == 0) {
                m_state = State::trailer;
            } else {
                if (m_total + size > m_limit) {
                    return Status::too_large;
                }
                m_total += size;
                m_remaining = size;
                m_state = State::data;
            }
            break;
        }
        }
    }
    return Status::more;
}

std::string_view status_reason(int status) {
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 402:
        return "Payment Required";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return status < 200   ? "Informational"
               : status < 300 ? "Success"
               : status < 400 ? "Redirection"
               : status < 500 ? "Client Error"
                              : "Server Error";
    }
}

} // namespace aimo::proxy
