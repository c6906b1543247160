#pragma once

// Reading `[cache]` out of an already parsed config.toml (only the config loader includes this,
// and with it toml++).

#include "cache/cache.hpp"

#include <string>
#include <toml++/toml.h>

namespace aimo::config {

/// The `[cache]` table of `root` (a parsed config.toml named `source` in messages), defaults for
/// what it leaves out. Throws core::Error(invalid_input) naming the file, line and key: an
/// unknown key, a mode other than off/exact/semantic, a namespace other than agent/shared, a
/// ttl or max_bytes that is not a size, a threshold outside (0, 1], semantic mode without
/// `embeddings`.
cache::Settings read_cache_section(const toml::table& root, const std::string& source);

} // namespace aimo::config
