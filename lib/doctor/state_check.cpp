#include "core/error.hpp"
#include "doctor/doctor.hpp"
#include "state/inspect.hpp"

#include <fmt/format.h>

namespace aimo::doctor {

std::vector<Check> check_state(const config::Config& config) {
    if (!config.state) {
        return {};
    }
    std::vector<Check> checks;
    state::StateStatus status;
    try {
        state::StateClient client(*config.state, nullptr);
        client.check();
        status = state::inspect(client);
    } catch (const core::Error& e) {
        checks.push_back({"state", Status::fail, e.what(), e.hint()});
        return checks;
    }
    checks.push_back(
        {"state",
         Status::pass,
         fmt::format("{} answers (redis {}); schema {}, {} agent{}", status.address,
                     status.server_version, status.schema.empty() ? "none yet" : status.schema,
                     status.agents, status.agents == 1 ? "" : "s"),
         {}});
    if (!status.appendonly) {
        checks.push_back({"state-persistence", Status::warn,
                          "the state server does not say whether it persists (CONFIG refused)",
                          "make sure it runs with appendonly yes, or spending is lost when it "
                          "restarts"});
    } else if (!*status.appendonly) {
        checks.push_back(
            {"state-persistence", Status::warn,
             fmt::format("appendonly is off{}: a restart of redis-server loses the spending and "
                         "agents written since its last snapshot",
                         status.save.empty() ? " and snapshots too" : ""),
             "set 'appendonly yes' in redis.conf (or redis-cli CONFIG SET appendonly yes)"});
    } else {
        checks.push_back({"state-persistence", Status::pass, "appendonly yes", {}});
    }
    return checks;
}

} // namespace aimo::doctor
