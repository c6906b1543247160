#include "openclaw/locate.hpp"

#include "core/paths.hpp"

namespace aimo::openclaw {

Location locate(const core::Context& ctx, const std::filesystem::path& override_path) {
    Location where;
    auto readonly = ctx.getenv("OPENCLAW_CONFIG_READONLY");
    where.read_only = readonly && (*readonly == "1" || *readonly == "true");
    std::filesystem::path home = ctx.getenv("OPENCLAW_HOME").value_or(core::home_dir(ctx).string());
    auto state = ctx.getenv("OPENCLAW_STATE_DIR");
    where.state_dir = state ? std::filesystem::path(*state) : home / ".openclaw";
    if (!override_path.empty()) {
        where.config = override_path;
        where.reason = "--config-path";
    } else if (auto path = ctx.getenv("OPENCLAW_CONFIG_PATH")) {
        where.config = *path;
        where.reason = "OPENCLAW_CONFIG_PATH";
    } else if (state) {
        where.config = where.state_dir / "openclaw.json";
        where.reason = "OPENCLAW_STATE_DIR";
    } else {
        where.config = where.state_dir / "openclaw.json";
        where.reason = "the default location";
        std::error_code ec;
        auto legacy = home / ".clawdbot" / "clawdbot.json";
        if (!std::filesystem::exists(where.config, ec) && std::filesystem::exists(legacy, ec)) {
            where.config = legacy;
            where.state_dir = legacy.parent_path();
            where.reason = "the legacy location";
        }
    }
    return where;
}

} // namespace aimo::openclaw
