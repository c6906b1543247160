#pragma once

#include "upstream/connection.hpp"
#include "upstream/http_client.hpp"

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace aimo::test {

/// One scripted answer of an in-memory upstream.
struct Canned {
    enum class Kind { answer, refuse, silent };
    Kind kind = Kind::answer;
    std::string bytes; ///< the whole HTTP/1.1 response, for Kind::answer

    /// A JSON answer with this status (and extra header lines such as "Retry-After: 1").
    static Canned status(int code, const std::string& body = "{}",
                         const std::vector<std::string>& headers = {});
    /// A 200 event stream of these events (each a whole event, blank line included).
    static Canned sse(const std::vector<std::string>& events);
    /// The connection is refused.
    static Canned refuse();
    /// The connection opens, but no answer ever comes.
    static Canned silent();
};

/// Upstreams in memory, for unit tests of the HTTP client and everything above it without a
/// socket: a ClientPool Connector that answers each connection to host H with the next canned
/// answer scripted for H (a 200 with an empty JSON object when none is left) and records the
/// requests written to it.
class MemoryUpstreams {
public:
    /// Queues answers for connections to `host`.
    void script(const std::string& host, std::vector<Canned> answers);
    /// The connector to give a ClientPool.
    upstream::Connector connector();
    /// The requests written to `host` so far, as raw HTTP.
    std::vector<std::string> sent(const std::string& host);
    /// Connections opened (or refused) to any host so far.
    size_t connections();

private:
    struct State {
        std::mutex mutex;
        std::map<std::string, std::deque<Canned>> scripts;
        std::map<std::string, std::vector<std::shared_ptr<std::string>>> sent;
        size_t connections = 0;
    };
    std::shared_ptr<State> m_state = std::make_shared<State>();
};

} // namespace aimo::test
