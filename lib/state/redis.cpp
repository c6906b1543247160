#include "state/redis.hpp"

#include "core/error.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

namespace aimo::state {

using core::Error;
using core::ErrorKind;

namespace {
RedisReply convert(const redisReply& reply) {
    RedisReply out;
    switch (reply.type) {
    case REDIS_REPLY_INTEGER:
        out.type = RedisReply::Type::integer;
        out.integer = reply.integer;
        break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        out.type = reply.type == REDIS_REPLY_STRING   ? RedisReply::Type::string
                   : reply.type == REDIS_REPLY_STATUS ? RedisReply::Type::status
                                                      : RedisReply::Type::error;
        out.text.assign(reply.str, reply.len);
        break;
    case REDIS_REPLY_ARRAY:
        out.type = RedisReply::Type::array;
        for (size_t i = 0; i < reply.elements; ++i) {
            out.elements.push_back(convert(*reply.element[i]));
        }
        break;
    default:
        break;
    }
    return out;
}

timeval to_timeval(std::chrono::milliseconds timeout) {
    return {static_cast<time_t>(timeout.count() / 1000),
            static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
}
} // namespace

RedisConnection::RedisConnection(RedisAddress address, std::chrono::milliseconds timeout)
    : m_address(std::move(address)) {
    auto tv = to_timeval(timeout);
    m_context = m_address.socket.empty()
                    ? redisConnectWithTimeout(m_address.host.c_str(), m_address.port, tv)
                    : redisConnectUnixWithTimeout(m_address.socket.c_str(), tv);
    if (m_context == nullptr || m_context->err != 0) {
        std::string why = m_context ? m_context->errstr : "out of memory";
        if (m_context != nullptr) {
            redisFree(m_context);
            m_context = nullptr;
        }
        throw Error(ErrorKind::upstream_unreachable,
                    fmt::format("cannot reach the state server {}: {}", m_address.display(), why),
                    "check that redis-server runs there (redis-cli ping), or fix --state");
    }
    redisSetTimeout(m_context, tv);
    auto check = [&](const RedisReply& reply, const char* what) {
        if (reply.type == RedisReply::Type::error) {
            throw Error(ErrorKind::upstream_status,
                        fmt::format("the state server {} refused {}: {}", m_address.display(), what,
                                    reply.text),
                        "check the user, password and database in --state");
        }
    };
    if (!m_address.password.empty()) {
        std::vector<std::string> auth = {"AUTH"};
        if (!m_address.user.empty()) {
            auth.push_back(m_address.user);
        }
        auth.push_back(m_address.password);
        check(command(auth), "AUTH");
    }
    if (m_address.db != 0) {
        check(command({"SELECT", std::to_string(m_address.db)}), "SELECT");
    }
}

RedisConnection::~RedisConnection() {
    if (m_context != nullptr) {
        redisFree(m_context);
    }
}

void RedisConnection::lost(const std::string& what) {
    throw Error(ErrorKind::upstream_unreachable,
                fmt::format("lost the state server {}: {}", m_address.display(), what),
                "check that redis-server is running; aimo reconnects when it is back");
}

RedisReply RedisConnection::command(const std::vector<std::string>& argv) {
    send(argv);
    return receive();
}

void RedisConnection::send(const std::vector<std::string>& argv) {
    if (m_context == nullptr || m_context->err != 0) {
        lost(m_context ? m_context->errstr : "not connected");
    }
    std::vector<const char*> parts;
    std::vector<size_t> lengths;
    for (const auto& arg : argv) {
        parts.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    if (redisAppendCommandArgv(m_context, static_cast<int>(parts.size()), parts.data(),
                               lengths.data()) != REDIS_OK) {
        lost(m_context->errstr);
    }
    // Written now, not at receive(): the server works while the caller does.
    int done = 0;
    while (done == 0) {
        if (redisBufferWrite(m_context, &done) != REDIS_OK) {
            lost(m_context->errstr);
        }
    }
}

RedisReply RedisConnection::receive() {
    void* raw = nullptr;
    if (redisGetReply(m_context, &raw) != REDIS_OK || raw == nullptr) {
        lost(m_context->errstr);
    }
    auto* reply = static_cast<redisReply*>(raw);
    RedisReply out = convert(*reply);
    freeReplyObject(reply);
    return out;
}

int RedisConnection::fd() const {
    return m_context != nullptr ? m_context->fd : -1;
}

RedisReply RedisConnection::eval(const std::string& script, const std::vector<std::string>& keys,
                                 const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"EVAL", script, std::to_string(keys.size())};
    argv.insert(argv.end(), keys.begin(), keys.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return command(argv);
}

} // namespace aimo::state
