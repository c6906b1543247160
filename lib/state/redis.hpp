#pragma once

#include "state/redis_url.hpp"

#include <chrono>
#include <string>
#include <vector>

struct redisContext;

namespace aimo::state {

/// One Redis reply as plain data.
struct RedisReply {
    enum class Type { nil, integer, string, status, array, error };
    Type type = Type::nil;
    long long integer = 0;
    std::string text; ///< a string, status or error
    std::vector<RedisReply> elements;
};

/// One connection to the state server (hiredis underneath). Not shared between threads: each
/// thread that needs the state holds its own.
class RedisConnection {
public:
    /// Connects, then AUTH and SELECT as the address says, each within `timeout`. Throws
    /// core::Error(upstream_unreachable) naming the server (never its password).
    RedisConnection(RedisAddress address, std::chrono::milliseconds timeout);
    ~RedisConnection();
    RedisConnection(const RedisConnection&) = delete;
    RedisConnection& operator=(const RedisConnection&) = delete;

    /// Sends one command and waits for its reply. A reply of type error is returned, not
    /// thrown; a lost connection throws core::Error(upstream_unreachable) and the connection
    /// stays unusable.
    RedisReply command(const std::vector<std::string>& argv);
    /// command() in two halves, so the caller can work while the server does: sends `argv`
    /// without waiting; receive() then waits for its reply. Throws as command() does.
    void send(const std::vector<std::string>& argv);
    RedisReply receive();
    /// EVAL `script` with `keys` and `args`: the script runs atomically on the server.
    RedisReply eval(const std::string& script, const std::vector<std::string>& keys,
                    const std::vector<std::string>& args);
    /// The socket, for poll(): readable once a reply (or the end of the connection) is there.
    int fd() const;

private:
    [[noreturn]] void lost(const std::string& what);
    RedisAddress m_address;
    redisContext* m_context = nullptr;
};

} // namespace aimo::state
