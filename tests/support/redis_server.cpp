#include "redis_server.hpp"

#include "fake_upstream.hpp"
#include "state/redis_url.hpp"

#include <catch2/catch.hpp>
#include <csignal>

namespace aimo::test {

// redis-server cannot listen on port 0 and say which it got: a free port is chosen first.
RedisServer::RedisServer(bool appendonly) : m_port(refused_port()), m_appendonly(appendonly) {
    start();
}

void RedisServer::start() {
    // It logs to stdout; "exec … 1>&2" lets Subprocess see its readiness line.
    std::string command =
        "exec redis-server --port " + std::to_string(m_port) + " --bind 127.0.0.1 --dir " +
        m_dir.path().string() + " --save '' " +
        (m_appendonly ? "--appendonly yes --appendfsync always" : "--appendonly no") +
        " --logfile '' 1>&2";
    m_process = std::make_unique<Subprocess>(
        std::vector<std::string>{"/bin/sh", "-c", command},
        std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin:/usr/sbin:/sbin"}});
    INFO(m_process->stderr_text());
    REQUIRE(m_process->wait_for_stderr("Ready to accept connections"));
}

void RedisServer::kill() {
    m_process->signal(SIGKILL);
    m_process->wait();
}

LoggedStateClient::LoggedStateClient(const RedisServer& redis)
    : m_client(state::parse_redis_url(redis.url()), [this](const std::string& line) {
          std::lock_guard lock(m_mutex);
          m_log += line + "\n";
      }) {}

std::string LoggedStateClient::logged() {
    std::lock_guard lock(m_mutex);
    return m_log;
}

} // namespace aimo::test
