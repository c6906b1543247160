#pragma once

#include <string>
#include <string_view>

namespace aimo::state {

/// Where the shared state lives: a Redis server over TCP or a Unix socket.
struct RedisAddress {
    std::string host; ///< empty for a Unix socket
    int port = 6379;
    std::string socket; ///< the socket's path, or empty for TCP
    std::string user;   ///< ACL user; empty: the default user
    std::string password;
    int db = 0;
    /// The address without its password, for messages and logs.
    std::string display() const;
};

/// Parses `redis://[user:password@]host[:port][/db]` or `unix://[user:password@]/path[?db=N]`.
/// `rediss://` is refused: Debian's hiredis 0.14 has no TLS (the hint names a TLS tunnel such as
/// stunnel). Throws core::Error(invalid_input) saying what is wrong, never printing a password.
RedisAddress parse_redis_url(std::string_view url);

} // namespace aimo::state
