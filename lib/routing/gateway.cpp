#include "routing/gateway.hpp"

#include "core/error.hpp"

namespace aimo::routing {

std::string Gateway::reload() {
    std::lock_guard reload_lock(m_reload_mutex);
    std::shared_ptr<const Table> fresh;
    try {
        fresh = m_factory();
    } catch (const core::Error& e) {
        return e.hint().empty() ? e.what() : std::string(e.what()) + " (" + e.hint() + ")";
    }
    std::lock_guard lock(m_mutex);
    m_table = std::move(fresh);
    return {};
}

} // namespace aimo::routing
