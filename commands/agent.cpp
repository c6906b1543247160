#include "core/json.hpp"
#include "core/text.hpp"
#include "crypto/siwx.hpp"
#include "governance/agents.hpp"
#include "registry.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <ostream>

namespace aimo::commands {

namespace {
struct AgentFlags {
    SettingFlags settings;
    std::string name;
    std::optional<std::string> budget; ///< text, so "none" can clear it
    std::optional<std::string> rpm;
    std::optional<std::string> tpm;
    std::optional<std::string> models;
    std::optional<std::string> weight;
    bool json = false;
    CLI::App* create = nullptr;
    CLI::App* list = nullptr;
    CLI::App* show = nullptr;
    CLI::App* update = nullptr;
    CLI::App* revoke = nullptr;
};

template <typename T> std::optional<T> limit(const std::string& text, const char* flag) {
    if (text == "none") {
        return std::nullopt;
    }
    try {
        size_t used = 0;
        T value;
        if constexpr (std::is_same_v<T, double>) {
            value = std::stod(text, &used);
        } else {
            value = std::stoll(text, &used);
        }
        if (used == text.size()) {
            return value;
        }
    } catch (const std::exception&) {
    }
    throw core::Error(core::ErrorKind::usage, fmt::format("{} '{}' is not a number", flag, text),
                      fmt::format("use e.g. {} 10, or {} none to remove the limit", flag, flag));
}

// Starts from `limits` and applies the flags that were given.
governance::AgentLimits apply(governance::AgentLimits limits, const AgentFlags& flags) {
    if (flags.budget) {
        limits.budget_usd = limit<double>(*flags.budget, "--budget");
    }
    if (flags.rpm) {
        limits.rpm = limit<int64_t>(*flags.rpm, "--rpm");
    }
    if (flags.tpm) {
        limits.tpm = limit<int64_t>(*flags.tpm, "--tpm");
    }
    if (flags.weight) {
        auto weight = limit<int64_t>(*flags.weight, "--weight");
        if (!weight || *weight < 1 || *weight > 100) {
            throw core::Error(
                core::ErrorKind::usage,
                fmt::format("--weight {} is not a whole number from 1 to 100", *flags.weight),
                "use e.g. --weight 3 for three turns to a weight-1 agent's one");
        }
        limits.weight = static_cast<int>(*weight);
    }
    if (flags.models) {
        limits.models = *flags.models == "none" ? std::vector<std::string>{}
                                                : core::split_list(*flags.models, ',');
    }
    return limits;
}

nlohmann::json to_json(const governance::Agent& agent) {
    nlohmann::json out = {{"name", agent.name},
                          {"token_hint", agent.token_hint + "…"},
                          {"budget_usd", nullptr},
                          {"spent_usd", agent.spent_usd},
                          {"rpm", nullptr},
                          {"tpm", nullptr},
                          {"models", agent.limits.models},
                          {"weight", agent.limits.weight},
                          {"created_at", agent.created_at},
                          {"revoked_at", nullptr}};
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
    return out;
}

std::string or_none(const std::optional<int64_t>& value) {
    return value ? std::to_string(*value) : "-";
}

void print_agent(std::ostream& out, const governance::Agent& agent) {
    out << fmt::format("name:     {}{}\n", agent.name, agent.revoked() ? " (revoked)" : "");
    out << fmt::format("token:    {}… (only its hash is stored)\n", agent.token_hint);
    out << fmt::format("budget:   {}\n", agent.limits.budget_usd
                                             ? fmt::format("${:.4f}", *agent.limits.budget_usd)
                                             : std::string("none"));
    out << fmt::format("spent:    ${:.6f}\n", agent.spent_usd);
    out << fmt::format("rpm:      {}\n", or_none(agent.limits.rpm));
    out << fmt::format("tpm:      {}\n", or_none(agent.limits.tpm));
    out << fmt::format("weight:   {}\n", agent.limits.weight);
    out << fmt::format("models:   {}\n",
                       agent.limits.models.empty()
                           ? std::string("any")
                           : fmt::format("{}", fmt::join(agent.limits.models, ", ")));
    out << fmt::format("created:  {}\n", agent.created_at);
    if (agent.revoked_at) {
        out << fmt::format("revoked:  {}\n", *agent.revoked_at);
    }
}

int run_agent(core::Context& ctx, const AgentFlags& flags) {
    auto agents = open_agents(ctx, flags.settings);
    auto& store = *agents.registry;
    auto now = crypto::format_timestamp(ctx.now());
    if (flags.create->parsed()) {
        auto token = store.create(flags.name, apply({}, flags), now);
        if (flags.json) {
            *ctx.out << core::json_text(nlohmann::json{{"name", flags.name}, {"token", token}})
                     << "\n";
        } else {
            *ctx.out << token << "\n";
            *ctx.err << "Agent '" << flags.name
                     << "' created. Give it this token as its API key; it is shown only once.\n"
                     << "From now on the proxy requires a token on every request.\n";
        }
        return 0;
    }
    if (flags.list->parsed()) {
        auto agents = store.list();
        if (flags.json) {
            nlohmann::json out = nlohmann::json::array();
            for (const auto& agent : agents) {
                out.push_back(to_json(agent));
            }
            *ctx.out << core::json_text(out, 2) << "\n";
            return 0;
        }
        *ctx.out << fmt::format("{:<20} {:>12} {:>12} {:>6} {:>8} {:>6}  {}\n", "NAME", "SPENT $",
                                "BUDGET $", "RPM", "TPM", "WEIGHT", "STATE");
        for (const auto& agent : agents) {
            *ctx.out << fmt::format(
                "{:<20} {:>12.6f} {:>12} {:>6} {:>8} {:>6}  {}\n", agent.name, agent.spent_usd,
                agent.limits.budget_usd ? fmt::format("{:.4f}", *agent.limits.budget_usd) : "-",
                or_none(agent.limits.rpm), or_none(agent.limits.tpm), agent.limits.weight,
                agent.revoked() ? "revoked" : "active");
        }
        if (agents.empty()) {
            *ctx.err << "no agents: the proxy accepts loopback requests without a token. "
                        "'aimo agent create NAME' adds one.\n";
        }
        return 0;
    }
    if (flags.update->parsed()) {
        store.update(flags.name, apply(store.get(flags.name).limits, flags));
    }
    if (flags.revoke->parsed()) {
        store.revoke(flags.name, now);
        *ctx.err << "Agent '" << flags.name << "' revoked: its token is refused from now on.\n";
        return 0;
    }
    auto agent = store.get(flags.name);
    if (flags.json) {
        *ctx.out << core::json_text(to_json(agent), 2) << "\n";
    } else {
        print_agent(*ctx.out, agent);
    }
    return 0;
}
} // namespace

CommandSpec register_agent(CLI::App& root) {
    auto flags = std::make_shared<AgentFlags>();
    auto* app = root.add_subcommand(
        "agent", "Manage agents: their tokens, budgets, rate limits and allowed models");
    app->require_subcommand(1);
    flags->create = app->add_subcommand("create", "Create an agent and print its token once");
    flags->list = app->add_subcommand("list", "List agents with what each has spent");
    flags->show = app->add_subcommand("show", "Show one agent");
    flags->update = app->add_subcommand("update", "Change an agent's limits");
    flags->revoke = app->add_subcommand("revoke", "Refuse an agent's token from now on");
    for (auto* sub : {flags->create, flags->show, flags->update, flags->revoke}) {
        sub->add_option("NAME", flags->name, "Agent name")->required();
    }
    for (auto* sub : {flags->create, flags->update}) {
        sub->add_option("--budget", flags->budget, "Budget in USD ('none': unlimited)");
        sub->add_option("--rpm", flags->rpm, "Requests per minute ('none': unlimited)");
        sub->add_option("--tpm", flags->tpm, "Tokens per minute ('none': unlimited)");
        sub->add_option("--models", flags->models,
                        "Comma-separated models it may use ('none': any)");
        sub->add_option("--weight", flags->weight,
                        "Its share of a busy provider against other agents, 1-100 (default 1)");
    }
    for (auto* sub : {flags->create, flags->list, flags->show, flags->update}) {
        sub->add_flag("--json", flags->json, "Print JSON");
    }
    for (auto* sub : {flags->create, flags->list, flags->show, flags->update, flags->revoke}) {
        add_setting_flag(*sub, flags->settings, "database");
        add_setting_flag(*sub, flags->settings, "state");
    }
    return {app, [flags](core::Context& ctx) { return run_agent(ctx, *flags); }};
}

} // namespace aimo::commands
