#include "core/paths.hpp"

#include "core/error.hpp"

namespace aimo::core {

std::filesystem::path home_dir(const Context& ctx) {
    auto home = ctx.getenv("HOME");
    if (!home) {
        throw Error(ErrorKind::invalid_input, "HOME is not set, so aimo cannot find its files",
                    "set HOME, or set AIMO_CONFIG_DIR and pass --keypair explicitly");
    }
    return *home;
}

namespace {
std::filesystem::path xdg_dir(const Context& ctx, const char* variable, const char* fallback) {
    if (auto base = ctx.getenv(variable); base && std::filesystem::path(*base).is_absolute()) {
        return std::filesystem::path(*base) / "aimo";
    }
    return home_dir(ctx) / fallback / "aimo";
}
} // namespace

std::filesystem::path config_dir(const Context& ctx) {
    if (auto dir = ctx.getenv("AIMO_CONFIG_DIR")) {
        return *dir;
    }
    return xdg_dir(ctx, "XDG_CONFIG_HOME", ".config");
}

std::filesystem::path state_dir(const Context& ctx) {
    return xdg_dir(ctx, "XDG_STATE_HOME", ".local/state");
}

std::filesystem::path data_dir(const Context& ctx) {
    return xdg_dir(ctx, "XDG_DATA_HOME", ".local/share");
}

} // namespace aimo::core
