#include "proxy/status.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "upstream/http_client.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <set>

namespace aimo::proxy {

using nlohmann::json;

namespace {
template <typename T> json or_null(const std::optional<T>& value) {
    return value ? json(*value) : json(nullptr);
}

template <typename T> std::optional<T> optional_of(const json& value) {
    return value.is_null() ? std::nullopt : std::optional<T>(value.get<T>());
}
} // namespace

namespace {
json provider_json(const metrics::QueueState& state) {
    std::set<std::string> names;
    size_t queued = 0;
    for (const auto& [agent, count] : state.queued_by_agent) {
        names.insert(agent);
        queued += count;
    }
    for (const auto& [agent, count] : state.in_flight_by_agent) {
        names.insert(agent);
    }
    json agents = json::array();
    for (const auto& name : names) {
        auto count = [&](const std::map<std::string, size_t>& by) {
            auto found = by.find(name);
            return found == by.end() ? size_t(0) : found->second;
        };
        agents.push_back({{"agent", name},
                          {"in_flight", count(state.in_flight_by_agent)},
                          {"queued", count(state.queued_by_agent)}});
    }
    return {{"provider", state.provider},
            {"in_flight", state.in_flight},
            {"queued", queued},
            {"held_seconds", state.held_seconds},
            {"limits",
             {{"max_in_flight", or_null(state.max_in_flight)},
              {"rpm", or_null(state.rpm)},
              {"tpm", or_null(state.tpm)}}},
            {"last_minute", {{"requests", state.window_requests}, {"tokens", state.window_tokens}}},
            {"agents", std::move(agents)}};
}
} // namespace

json status_json(const std::vector<metrics::QueueState>& states,
                 const std::vector<std::string>& configured) {
    json providers = json::array();
    std::set<std::string> seen;
    for (const auto& state : states) {
        seen.insert(state.provider);
        providers.push_back(provider_json(state));
    }
    for (const auto& name : configured) {
        if (seen.count(name) == 0) {
            metrics::QueueState idle;
            idle.provider = name;
            providers.push_back(provider_json(idle));
        }
    }
    return json{{"providers", std::move(providers)}};
}

std::vector<ProviderActivity> fetch_status(const upstream::Url& base, const std::string& token) {
    upstream::Headers headers;
    if (!token.empty()) {
        headers.add("Authorization", "Bearer " + token);
    }
    auto where = base.join("/api/aimo/status");
    upstream::FetchedResponse response;
    try {
        response = upstream::fetch_once(base, base.path + "/api/aimo/status",
                                        {std::chrono::seconds(2), std::chrono::seconds(10)}, {},
                                        16 * 1024 * 1024, std::move(headers));
    } catch (const core::Error& e) {
        throw core::Error(core::ErrorKind::upstream_unreachable,
                          fmt::format("no aimo proxy answers at {}: {}", where, e.what()),
                          "start it with 'aimo chat --serve' (or give --host / --port of the "
                          "one that runs)");
    }
    if (response.status == 401 || response.status == 403) {
        throw core::Error(
            core::ErrorKind::usage,
            fmt::format("the proxy at {} asks for a token (HTTP {})", where, response.status),
            "pass an agent's token with --token");
    }
    if (response.status != 200) {
        throw core::Error(core::ErrorKind::upstream_status,
                          fmt::format("the proxy at {} answered HTTP {}", where, response.status),
                          "is it an older aimo without /api/aimo/status? 'aimo --version' tells");
    }
    std::vector<ProviderActivity> out;
    try {
        auto answer = json::parse(response.body);
        for (const auto& item : answer.at("providers")) {
            ProviderActivity p;
            p.provider = item.at("provider").get<std::string>();
            p.in_flight = item.at("in_flight").get<size_t>();
            p.queued = item.at("queued").get<size_t>();
            p.held_seconds = item.at("held_seconds").get<double>();
            const auto& limits = item.at("limits");
            p.max_in_flight = optional_of<int>(limits.at("max_in_flight"));
            p.rpm = optional_of<int64_t>(limits.at("rpm"));
            p.tpm = optional_of<int64_t>(limits.at("tpm"));
            p.window_requests = item.at("last_minute").at("requests").get<size_t>();
            p.window_tokens = item.at("last_minute").at("tokens").get<int64_t>();
            for (const auto& agent : item.at("agents")) {
                p.agents.push_back({agent.at("agent").get<std::string>(),
                                    agent.at("in_flight").get<size_t>(),
                                    agent.at("queued").get<size_t>()});
            }
            out.push_back(std::move(p));
        }
    } catch (const json::exception& e) {
        throw core::Error(
            core::ErrorKind::upstream_protocol,
            fmt::format("the proxy at {} answered a status aimo cannot read: {}", where, e.what()),
            "run the same aimo version for the proxy and this command");
    }
    return out;
}

} // namespace aimo::proxy
