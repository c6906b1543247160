#include "state/redis_url.hpp"

#include "core/error.hpp"

#include <charconv>
#include <fmt/format.h>

namespace aimo::state {

using core::Error;
using core::ErrorKind;

namespace {
constexpr const char* hint =
    "use redis://[user:password@]host:port/db or unix:///path/to/redis.sock?db=N";

[[noreturn]] void refuse(const std::string& message) {
    throw Error(ErrorKind::invalid_input, message, hint);
}

int number(std::string_view text, const char* what, int low, int high) {
    int value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < low ||
        value > high) {
        refuse(fmt::format("the state server's {} '{}' is not a number from {} to {}", what, text,
                           low, high));
    }
    return value;
}

// Percent-decoding, for passwords holding '@', ':' or '/'.
std::string decoded(std::string_view text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            int value = 0;
            auto [end, error] =
                std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
            if (error == std::errc() && end == text.data() + i + 3) {
                out += static_cast<char>(value);
                i += 2;
                continue;
            }
        }
        out += text[i];
    }
    return out;
}
} // namespace

std::string RedisAddress::display() const {
    std::string who = user.empty() ? "" : user + "@";
    if (!socket.empty()) {
        return fmt::format("unix://{}{}?db={}", who, socket, db);
    }
    return fmt::format("redis://{}{}:{}/{}", who, host, port, db);
}

RedisAddress parse_redis_url(std::string_view url) {
    RedisAddress address;
    std::string_view rest;
    bool unix_socket = false;
    if (url.rfind("rediss://", 0) == 0) {
        throw Error(ErrorKind::invalid_input,
                    "rediss:// (Redis over TLS) is not supported: Debian's hiredis 0.14 has no TLS",
                    "run a TLS tunnel such as stunnel on this machine and point --state at its "
                    "local end with redis://127.0.0.1:PORT");
    } else if (url.rfind("redis://", 0) == 0) {
        rest = url.substr(8);
    } else if (url.rfind("unix://", 0) == 0) {
        rest = url.substr(7);
        unix_socket = true;
    } else {
        // A URL with credentials is not repeated: it may hold a password.
        refuse(url.find('@') == std::string_view::npos
                   ? fmt::format("the state server '{}' is not a redis:// or unix:// URL", url)
                   : std::string("the state server URL is not a redis:// or unix:// URL"));
    }
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        auto credentials = rest.substr(0, at);
        rest = rest.substr(at + 1);
        auto colon = credentials.find(':');
        address.user = decoded(credentials.substr(0, colon));
        if (colon != std::string_view::npos) {
            address.password = decoded(credentials.substr(colon + 1));
        }
    }
    if (unix_socket) {
        auto query = rest.find('?');
        address.socket = std::string(rest.substr(0, query));
        if (address.socket.empty() || address.socket[0] != '/') {
            refuse("a unix:// state server needs an absolute socket path (unix:///run/redis.sock)");
        }
        if (query != std::string_view::npos) {
            auto params = rest.substr(query + 1);
            if (params.rfind("db=", 0) != 0) {
                refuse(fmt::format("unknown parameter '{}' in the state server URL", params));
            }
            address.db = number(params.substr(3), "database", 0, 15);
        }
        return address;
    }
    auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    if (slash != std::string_view::npos && slash + 1 < rest.size()) {
        address.db = number(rest.substr(slash + 1), "database", 0, 15);
    }
    std::string_view host = authority;
    if (!authority.empty() && authority[0] == '[') { // [::1]:6379
        auto close = authority.find(']');
        if (close == std::string_view::npos) {
            refuse("the state server's IPv6 address lacks its ']'");
        }
        host = authority.substr(1, close - 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') {
                refuse("the state server's address has junk after ']'");
            }
            address.port = number(authority.substr(close + 2), "port", 1, 65535);
        }
    } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        address.port = number(authority.substr(colon + 1), "port", 1, 65535);
    }
    if (host.empty()) {
        refuse("the state server URL names no host");
    }
    address.host = std::string(host);
    return address;
}

} // namespace aimo::state
