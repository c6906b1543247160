#pragma once

#include "cache/cache.hpp"
#include "proxy/types.hpp"

namespace aimo::proxy {

/// The answer to a cache hit, in the shape the request asks for whatever shape it was stored
/// from: the completion as JSON, or replayed as a chat completion stream (with the usage
/// chunk when `include_usage`). Carries x-aimo-cache and, on a semantic hit,
/// x-aimo-cache-similarity.
Response cached_response(const cache::Lookup& hit, bool stream, bool include_usage);

} // namespace aimo::proxy
