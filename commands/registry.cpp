#include "registry.hpp"

namespace aimo::commands {

const std::vector<CommandEntry>& command_registry() {
    static const std::vector<CommandEntry> entries = {
        {"keygen", register_keygen},
        {"address", register_address},
    };
    return entries;
}

} // namespace aimo::commands
