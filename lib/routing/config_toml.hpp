#pragma once

// Reading the routing tables out of an already parsed config.toml. Only the config loader and
// routing/config.cpp include this (and with it toml++).

#include "routing/config.hpp"

#include <string>
#include <string_view>
#include <toml++/toml.h>
#include <vector>

namespace aimo::routing {

/// The top-level tables of config.toml that belong to routing.
const std::vector<std::string_view>& routing_tables();

/// Reads the routing tables of `root` (a parsed config.toml named `source` in messages); the
/// same rules and messages as parse_routing_config.
RoutingConfig read_routing_tables(const toml::table& root, const std::string& source,
                                  const RoutingDefaults& defaults, const core::EnvLookup& env);

} // namespace aimo::routing
