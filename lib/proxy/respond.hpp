#pragma once

#include "cache/cache.hpp"
#include "governance/meter.hpp"
#include "metrics/metrics.hpp"
#include "proxy/types.hpp"
#include "routing/dispatch.hpp"

#include <chrono>
#include <memory>

namespace aimo::proxy {

/// What the respond stage needs besides the dispatch.
struct RespondOptions {
    std::shared_ptr<governance::Meter> meter; ///< null: the request is not metered
    metrics::Metrics* metrics = nullptr;      ///< failed attempts are counted here
    bool stream = false;                      ///< the client asked for an event stream
    bool strip_usage = false; ///< drop the usage-only event aimo asked for on its behalf
    /// How long a stream may wait for its first upstream byte before its answer starts with
    /// SSE `: keep-alive` comments (repeated at this interval); zero: never.
    std::chrono::milliseconds keepalive{0};
    std::chrono::steady_clock::time_point start; ///< when the request arrived
    std::string model;                           ///< for the access log
    /// The response cache's fill for this request (a miss that may be stored), or null: it
    /// gets the answer as it passes.
    std::shared_ptr<cache::Fill> fill;
};

/// The "respond" stage of the forward pipeline: the client's answer to `dispatch`, however it
/// ends. It is decided once, the same way whether the answer starts now or after keep-alive
/// comments: a dispatch that failed is an OpenAI error (an SSE error event once the stream
/// has started); an upstream error answer is passed on whole (or as an SSE error event); a
/// successful event stream is relayed event by event, its usage observed; any other body is
/// relayed as it arrives, or whole when its length is known. The meter is told who answered
/// and settles the request when the body ends (its destructor, if the client left first).
Response respond(std::shared_ptr<routing::Dispatch> dispatch, RespondOptions options);

} // namespace aimo::proxy
