#include "state/shared_agents.hpp"

#include "core/error.hpp"
#include "state/watcher.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace aimo::state {

using core::Error;
using core::ErrorKind;
using governance::Agent;
using nlohmann::json;

namespace {
// KEYS: agents, tokens, version, schema, spent. ARGV: name, json, token hash, spent (or ""),
// schema version, the changes channel.
const Script add_script{R"lua(
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1])
redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[6], ARGV[1])
redis.call('SET', KEYS[4], ARGV[5], 'NX')
if ARGV[4] ~= '' then redis.call('SET', KEYS[5], ARGV[4]) end
return 1
)lua"};

// KEYS: agents, version. ARGV: name, the JSON read, the JSON to write, the changes channel.
const Script replace_script{R"lua(
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[4], ARGV[1])
return 1
)lua"};

std::string text_of(const state::RedisReply& reply) {
    return reply.type == RedisReply::Type::string ? reply.text : std::string();
}

double number_of(const RedisReply& reply) {
    if (reply.type != RedisReply::Type::string) {
        return 0;
    }
    try {
        return std::stod(reply.text);
    } catch (const std::exception&) {
        return 0;
    }
}
} // namespace

AgentKeys::AgentKeys(const std::string& name)
    : spent(key("spent:" + name)), holds(key("holds:" + name)), requests(key("requests:" + name)),
      tokens(key("tokens:" + name)), tokens_total(key("tokens_total:" + name)) {}

std::string agent_json(const Agent& agent) {
    json out = {{"id", agent.id},
                {"name", agent.name},
                {"token_hash", agent.token_hash},
                {"token_hint", agent.token_hint},
                {"models", agent.limits.models},
                {"weight", agent.limits.weight},
                {"created_at", agent.created_at}};
    // Unset limits are left out, not null: the scripts read a missing field as no limit.
    if (agent.limits.budget_usd) {
        out["budget_usd"] = *agent.limits.budget_usd;
    }
    if (agent.limits.rpm) {
        out["rpm"] = *agent.limits.rpm;
    }
    if (agent.limits.tpm) {
        out["tpm"] = *agent.limits.tpm;
    }
    if (agent.revoked_at) {
        out["revoked_at"] = *agent.revoked_at;
    }
    return out.dump();
}

Agent agent_from_json(const std::string& text) {
    auto in = json::parse(text, nullptr, false);
    try {
        Agent agent;
        agent.id = in.at("id").get<int64_t>();
        agent.name = in.at("name").get<std::string>();
        agent.token_hash = in.at("token_hash").get<std::string>();
        agent.token_hint = in.value("token_hint", "");
        agent.limits.models = in.value("models", std::vector<std::string>{});
        agent.limits.weight = in.value("weight", 1);
        agent.created_at = in.value("created_at", "");
        if (in.contains("budget_usd")) {
            agent.limits.budget_usd = in["budget_usd"].get<double>();
        }
        if (in.contains("rpm")) {
            agent.limits.rpm = in["rpm"].get<int64_t>();
        }
        if (in.contains("tpm")) {
            agent.limits.tpm = in["tpm"].get<int64_t>();
        }
        if (in.contains("revoked_at")) {
            agent.revoked_at = in["revoked_at"].get<std::string>();
        }
        return agent;
    } catch (const json::exception&) {
        throw Error(ErrorKind::invalid_input,
                    "the state server holds an agent aimo cannot read: " + text.substr(0, 200),
                    "was it written by hand? 'aimo doctor' checks the state server");
    }
}

bool SharedAgents::import(const Agent& agent) {
    Agent stored = agent;
    stored.id = m_client.command({"INCR", key("agent_seq")}).integer;
    auto added = m_client.run(
        add_script,
        {key("agents"), key("tokens"), key("version"), key("schema"), AgentKeys(agent.name).spent},
        {agent.name, agent_json(stored), agent.token_hash,
         agent.spent_usd > 0 ? fmt::format("{:.17g}", agent.spent_usd) : "",
         std::to_string(schema_version), changes_channel()});
    return added.integer == 1;
}

std::string SharedAgents::create(const std::string& name, const governance::AgentLimits& limits,
                                 const std::string& now) {
    governance::validate_name(name);
    governance::validate_limits(limits);
    auto token = governance::new_token();
    Agent agent;
    agent.name = name;
    agent.token_hash = governance::hash_token(token);
    agent.token_hint = token.substr(0, 9);
    agent.limits = limits;
    agent.created_at = now;
    if (!import(agent)) {
        throw Error(ErrorKind::already_exists, fmt::format("agent '{}' already exists", name),
                    "pick another name, or 'aimo agent update " + name + "' to change its limits");
    }
    return token;
}

std::vector<Agent> SharedAgents::list() {
    auto all = m_client.command({"HGETALL", key("agents")});
    std::vector<Agent> agents;
    for (size_t i = 0; i + 1 < all.elements.size(); i += 2) {
        agents.push_back(agent_from_json(all.elements[i + 1].text));
    }
    std::sort(agents.begin(), agents.end(),
              [](const Agent& a, const Agent& b) { return a.id < b.id; });
    if (!agents.empty()) {
        std::vector<std::string> get = {"MGET"};
        for (const auto& agent : agents) {
            get.push_back(AgentKeys(agent.name).spent);
        }
        auto spent = m_client.command(get);
        for (size_t i = 0; i < agents.size() && i < spent.elements.size(); ++i) {
            agents[i].spent_usd = number_of(spent.elements[i]);
        }
    }
    return agents;
}

std::optional<Agent> SharedAgents::find(std::string_view name) {
    auto text = text_of(m_client.command({"HGET", key("agents"), std::string(name)}));
    if (text.empty()) {
        return std::nullopt;
    }
    auto agent = agent_from_json(text);
    agent.spent_usd = number_of(m_client.command({"GET", AgentKeys(agent.name).spent}));
    return agent;
}

template <typename Change> void SharedAgents::modify(const std::string& name, Change change) {
    for (int attempt = 0; attempt < 20; ++attempt) {
        auto old = text_of(m_client.command({"HGET", key("agents"), name}));
        if (old.empty()) {
            throw governance::no_such_agent(name);
        }
        auto agent = agent_from_json(old);
        if (!change(agent)) {
            return;
        }
        auto done = m_client.run(replace_script, {key("agents"), key("version")},
                                 {name, old, agent_json(agent), changes_channel()});
        if (done.integer == 1) {
            return;
        }
    }
    throw Error(ErrorKind::io, fmt::format("agent '{}' kept changing while aimo updated it", name),
                "try again");
}

void SharedAgents::update(const std::string& name, const governance::AgentLimits& limits) {
    governance::validate_limits(limits);
    modify(name, [&](Agent& agent) {
        agent.limits = limits;
        return true;
    });
}

void SharedAgents::revoke(const std::string& name, const std::string& now) {
    modify(name, [&](Agent& agent) {
        if (agent.revoked()) {
            return false;
        }
        agent.revoked_at = now;
        return true;
    });
}

bool SharedAgents::any() {
    return m_client.command({"HLEN", key("agents")}).integer > 0;
}

std::string SharedAgents::version() {
    return text_of(m_client.command({"GET", key("version")}));
}

} // namespace aimo::state
