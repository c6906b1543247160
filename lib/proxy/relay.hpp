#pragma once

#include "proxy/types.hpp"
#include "upstream/http_client.hpp"

#include <functional>
#include <memory>
#include <string_view>

namespace aimo::proxy {

/// Relays a server-sent-event body as it arrives, event by event: bytes are passed on up to the
/// last complete event (blank line), so a client never sees half an event. If the upstream
/// fails mid-stream, the partial event is dropped and an SSE `data: {"error":…}` event is sent
/// instead, so the answer cannot look complete. Comment lines and `data: [DONE]` pass unchanged.
/// `filter` (optional) sees every complete event and returns false to drop it.
using EventFilter = std::function<bool(std::string_view event)>;
BodyStream relay_sse(std::shared_ptr<upstream::HttpResponse> upstream, EventFilter filter = {});

/// Relays any other body as it arrives; an upstream failure aborts the client connection
/// (the chunked encoding is then visibly incomplete).
BodyStream relay_raw(std::shared_ptr<upstream::HttpResponse> upstream);

} // namespace aimo::proxy
