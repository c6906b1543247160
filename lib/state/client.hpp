#pragma once

#include "state/redis.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace aimo::state {

/// The key prefix of everything aimo keeps in the state server.
inline constexpr std::string_view key_prefix = "aimo:";
/// The layout of those keys; a server holding another is refused.
inline constexpr int schema_version = 1;

/// A Lua script the state server runs atomically.
struct Script {
    std::string source;
};

/// The state server, for any number of threads: a pool of connections, scripts sent once and
/// then run by their SHA, and the server's loss and return each reported once through `log`.
/// While the server cannot be reached, calls fail at once (a new connection is tried at most
/// every `retry`), so a dead server costs a request no waiting. Thread-safe.
class StateClient {
public:
    using Log = std::function<void(const std::string&)>;
    StateClient(RedisAddress address, Log log,
                std::chrono::milliseconds timeout = std::chrono::milliseconds(2000),
                std::chrono::milliseconds retry = std::chrono::milliseconds(200));

    /// One command. Throws core::Error(upstream_unreachable) while the server is unreachable.
    RedisReply command(const std::vector<std::string>& argv);
    /// Runs `script` with `keys` and `args`. An error the script or the server answers throws
    /// core::Error(upstream_status) naming the server. `meanwhile`, when given, runs once the
    /// script is on its way and before its answer is read: work the caller does not want to
    /// wait for the round trip to start. It is skipped when nothing could be sent, and what it
    /// throws is ignored.
    RedisReply run(const Script& script, const std::vector<std::string>& keys,
                   const std::vector<std::string>& args,
                   const std::function<void()>& meanwhile = {});
    /// Connects now and checks the schema: throws what command() throws, or
    /// core::Error(invalid_input) when the server holds another version of aimo's state.
    void check();
    const RedisAddress& address() const { return m_address; }

private:
    /// An idle connection, or nullptr to open one; throws while a retry would come too soon.
    std::unique_ptr<RedisConnection> take_idle();
    void release(std::unique_ptr<RedisConnection> connection);
    template <typename Call> RedisReply with_connection(Call call);

    RedisAddress m_address;
    Log m_log;
    std::chrono::milliseconds m_timeout;
    std::chrono::milliseconds m_retry;
    std::mutex m_mutex;
    std::vector<std::unique_ptr<RedisConnection>> m_idle;
    bool m_down = false; ///< the last attempt failed; reported once
    std::chrono::steady_clock::time_point m_failed_at{};
    std::string m_why;                             ///< why it is down
    std::map<const Script*, std::string> m_loaded; ///< SHA of each script loaded
};

/// Twelve random hex digits: names what one process holds in the server.
std::string random_id();

/// `key_prefix` + `name`.
std::string key(std::string_view name);

} // namespace aimo::state
