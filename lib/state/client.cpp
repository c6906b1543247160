#include "state/client.hpp"

#include "core/error.hpp"

#include <fmt/format.h>
#include <sodium.h>

namespace aimo::state {

using core::Error;
using core::ErrorKind;

std::string random_id() {
    unsigned char bytes[6];
    randombytes_buf(bytes, sizeof bytes);
    std::string out;
    for (auto byte : bytes) {
        out += fmt::format("{:02x}", byte);
    }
    return out;
}

std::string key(std::string_view name) {
    std::string out(key_prefix);
    out.append(name);
    return out;
}

StateClient::StateClient(RedisAddress address, Log log, std::chrono::milliseconds timeout,
                         std::chrono::milliseconds retry)
    : m_address(std::move(address)), m_log(std::move(log)), m_timeout(timeout), m_retry(retry) {}

std::unique_ptr<RedisConnection> StateClient::take_idle() {
    std::lock_guard lock(m_mutex);
    if (!m_idle.empty()) {
        auto connection = std::move(m_idle.back());
        m_idle.pop_back();
        return connection;
    }
    // While the server is down, a new connection is tried at most every m_retry; meanwhile a
    // call fails at once, and leaves the time of the last real attempt as it was.
    if (m_down && std::chrono::steady_clock::now() - m_failed_at < m_retry) {
        throw Error(
            ErrorKind::upstream_unreachable,
            fmt::format("the state server {} is unreachable ({})", m_address.display(), m_why),
            "check that redis-server is running; aimo reconnects when it is back");
    }
    return nullptr;
}

void StateClient::release(std::unique_ptr<RedisConnection> connection) {
    std::lock_guard lock(m_mutex);
    if (m_down) {
        m_down = false;
        m_loaded.clear(); // a restarted server has forgotten the scripts
        if (m_log) {
            m_log(fmt::format("the state server {} is back: governed requests go through again",
                              m_address.display()));
        }
    }
    m_idle.push_back(std::move(connection));
}

template <typename Call> RedisReply StateClient::with_connection(Call call) {
    std::unique_ptr<RedisConnection> connection = take_idle();
    try {
        if (!connection) {
            connection = std::make_unique<RedisConnection>(m_address, m_timeout);
        }
        RedisReply reply = call(*connection);
        release(std::move(connection));
        return reply;
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::upstream_unreachable) {
            if (connection) {
                release(std::move(connection));
            }
            throw;
        }
        std::lock_guard lock(m_mutex);
        // The other idle connections went the same way: a server that restarted closed all.
        m_idle.clear();
        m_failed_at = std::chrono::steady_clock::now();
        m_why = e.what();
        if (!m_down && m_log) {
            m_log(fmt::format("{}; budgets and limits cannot be checked, so governed requests "
                              "are refused (503), and providers' limits are counted by this "
                              "instance alone, until it is back",
                              e.what()));
        }
        m_down = true;
        throw;
    }
}

namespace {
RedisReply checked(RedisReply reply, const RedisAddress& address) {
    if (reply.type == RedisReply::Type::error) {
        throw Error(
            ErrorKind::upstream_status,
            fmt::format("the state server {} answered an error: {}", address.display(), reply.text),
            "check the user, password and database in --state; a LOADING answer passes "
            "by itself");
    }
    return reply;
}
} // namespace

RedisReply StateClient::command(const std::vector<std::string>& argv) {
    return checked(
        with_connection([&](RedisConnection& connection) { return connection.command(argv); }),
        m_address);
}

RedisReply StateClient::run(const Script& script, const std::vector<std::string>& keys,
                            const std::vector<std::string>& args,
                            const std::function<void()>& meanwhile) {
    auto reply = with_connection([&](RedisConnection& connection) {
        std::string sha;
        {
            std::lock_guard lock(m_mutex);
            if (auto found = m_loaded.find(&script); found != m_loaded.end()) {
                sha = found->second;
            }
        }
        auto load = [&] {
            auto loaded = connection.command({"SCRIPT", "LOAD", script.source});
            if (loaded.type != RedisReply::Type::string) {
                return loaded;
            }
            sha = loaded.text;
            std::lock_guard lock(m_mutex);
            m_loaded[&script] = sha;
            return loaded;
        };
        if (sha.empty()) {
            if (auto loaded = load(); loaded.type == RedisReply::Type::error) {
                return loaded;
            }
        }
        auto evalsha = [&](const std::function<void()>& wait_with) {
            std::vector<std::string> argv = {"EVALSHA", sha, std::to_string(keys.size())};
            argv.insert(argv.end(), keys.begin(), keys.end());
            argv.insert(argv.end(), args.begin(), args.end());
            connection.send(argv);
            if (wait_with) {
                try {
                    wait_with();
                } catch (...) { // optional work: the reply must still be read
                }
            }
            return connection.receive();
        };
        auto out = evalsha(meanwhile);
        if (out.type == RedisReply::Type::error && out.text.rfind("NOSCRIPT", 0) == 0) {
            if (auto loaded = load(); loaded.type == RedisReply::Type::error) {
                return loaded;
            }
            out = evalsha({}); // `meanwhile` has run
        }
        return out;
    });
    return checked(std::move(reply), m_address);
}

void StateClient::check() {
    auto reply = command({"GET", key("schema")});
    if (reply.type == RedisReply::Type::string && reply.text != std::to_string(schema_version)) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("the state server {} holds aimo state of schema {}; this aimo "
                                "knows schema {}",
                                m_address.display(), reply.text, schema_version),
                    "run the aimo version that wrote it, or point --state at another database");
    }
}

} // namespace aimo::state
