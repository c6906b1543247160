#pragma once

#include "common.hpp"

namespace aimo::commands {

struct ListModelsFlags {
    SettingFlags settings;
    bool json = false;
};

/// Adds list-models' flags (shared with `aimo router list-models`).
void add_list_models_flags(CLI::App& app, ListModelsFlags& flags);
int run_list_models(core::Context& ctx, const ListModelsFlags& flags);

} // namespace aimo::commands
