#pragma once

#include "core/context.hpp"

#include <filesystem>

namespace aimo::core {

/// The user's home directory from $HOME; throws Error when it is unset.
std::filesystem::path home_dir(const Context& ctx);

/// aimo's configuration directory: $AIMO_CONFIG_DIR, else $XDG_CONFIG_HOME/aimo, else
/// ~/.config/aimo. Never created here.
std::filesystem::path config_dir(const Context& ctx);

/// aimo's state directory: $XDG_STATE_HOME/aimo, else ~/.local/state/aimo. Never created here.
std::filesystem::path state_dir(const Context& ctx);

/// aimo's data directory (the usage database): $XDG_DATA_HOME/aimo, else ~/.local/share/aimo.
/// Never created here.
std::filesystem::path data_dir(const Context& ctx);

} // namespace aimo::core
