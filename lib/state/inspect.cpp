#include "state/inspect.hpp"

#include "core/error.hpp"

namespace aimo::state {

namespace {
// One "field:value" line of an INFO answer.
std::string info_field(const std::string& info, const std::string& field) {
    auto at = info.find(field + ":");
    if (at == std::string::npos) {
        return {};
    }
    at += field.size() + 1;
    auto end = info.find_first_of("\r\n", at);
    return info.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// CONFIG GET `name`, or nullopt when the server refuses CONFIG (a managed Redis may).
std::optional<std::string> config_value(StateClient& client, const std::string& name) {
    try {
        auto reply = client.command({"CONFIG", "GET", name});
        if (reply.elements.size() >= 2) {
            return reply.elements[1].text;
        }
    } catch (const core::Error& e) {
        if (e.kind() == core::ErrorKind::upstream_unreachable) {
            throw;
        }
    }
    return std::nullopt;
}
} // namespace

StateStatus inspect(StateClient& client) {
    StateStatus status;
    status.address = client.address().display();
    status.server_version = info_field(client.command({"INFO", "server"}).text, "redis_version");
    auto schema = client.command({"GET", key("schema")});
    status.schema = schema.type == RedisReply::Type::string ? schema.text : "";
    if (auto appendonly = config_value(client, "appendonly")) {
        status.appendonly = *appendonly == "yes";
    }
    status.save = config_value(client, "save").value_or("");
    status.agents = client.command({"HLEN", key("agents")}).integer;
    return status;
}

ImportResult import_agents(governance::AgentRegistry& from, SharedAgents& to) {
    ImportResult result;
    for (const auto& agent : from.list()) {
        (to.import(agent) ? result.added : result.skipped).push_back(agent.name);
    }
    return result;
}

} // namespace aimo::state
