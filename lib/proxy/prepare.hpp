#pragma once

#include "governance/meter.hpp"
#include "openai/request.hpp"
#include "proxy/types.hpp"
#include "routing/dispatch.hpp"

#include <string_view>

namespace aimo::proxy {

/// A request as it goes upstream, and what its answer must undo or tell.
struct Prepared {
    routing::Outgoing outgoing;
    bool strip_usage = false; ///< aimo asked for the stream's usage: drop that event on the way
    bool stream = false;      ///< the client asked for a stream
    Headers response_headers; ///< x-aimo-budget-max-tokens when the budget lowered the limit
};

/// The "prepare" stage of the forward pipeline: the client's headers minus hop-by-hop ones
/// and credentials; the body as sent, or with the completion limit `meter`'s admission set
/// (its own limits lowered or one added) and, for a metered stream that did not ask for it,
/// `stream_options.include_usage` — byte edits, never a re-serialisation. `endpoint` is the
/// path below /v1; `summary` describes `request.body`.
Prepared prepare_upstream(const Request& request, std::string_view endpoint,
                          openai::BodySummary summary, const governance::Meter* meter);

} // namespace aimo::proxy
