#pragma once

#include "common.hpp"

namespace aimo::commands {

/// Adds `connect claude-code` and `connect codex` under `connect`; the returned run handles
/// whichever of them was parsed (and returns -1 when neither was).
std::function<int(core::Context&)> register_connect_clients(CLI::App& connect);

} // namespace aimo::commands
