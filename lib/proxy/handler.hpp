#pragma once

#include "proxy/types.hpp"
#include "routing/dispatch.hpp"
#include "routing/gateway.hpp"

#include <chrono>

namespace aimo::proxy {

/// Answers every client request: health, the model catalogue, and the forwarded OpenAI
/// endpoints. Knows nothing about the HTTP library; thread-safe.
class Handler {
public:
    /// `stream_keepalive`: how long a streamed request waits for its first upstream byte before
    /// the response starts with SSE comment keep-alives (repeated at that interval); zero never.
    Handler(routing::Gateway& gateway, std::chrono::milliseconds stream_keepalive)
        : m_gateway(gateway), m_keepalive(stream_keepalive) {}

    /// Never throws: every failure becomes an OpenAI-shaped error response.
    Response handle(const Request& request);

private:
    Response list_models();
    Response get_model(std::string_view id);
    Response forward(const Request& request, std::string_view rest);
    Response answer(const std::shared_ptr<routing::Dispatch>& dispatch,
                    std::chrono::steady_clock::time_point start);
    Response keepalive_stream(std::shared_ptr<routing::Dispatch> dispatch, LogFields log);

    routing::Gateway& m_gateway;
    std::chrono::milliseconds m_keepalive;
};

} // namespace aimo::proxy
