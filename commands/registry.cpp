#include "registry.hpp"

namespace aimo::commands {

const std::vector<CommandEntry>& command_registry() {
    static const std::vector<CommandEntry> entries = {
        {"chat", register_chat},
        {"serve", register_serve},
        {"list-models", register_list_models},
        {"router", register_router},
        {"connect", register_connect},
        {"doctor", register_doctor},
        {"config", register_config},
        {"agent", register_agent},
        {"stats", register_stats},
        {"audit", register_audit},
        {"cache", register_cache},
        {"state", register_state},
        {"status", register_status},
        {"keygen", register_keygen},
        {"address", register_address},
        {"completion", register_completion},
    };
    return entries;
}

} // namespace aimo::commands
