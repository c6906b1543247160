#pragma once

#include "governance/gate.hpp"
#include "metrics/metrics.hpp"
#include "proxy/types.hpp"
#include "routing/gateway.hpp"

#include <chrono>
#include <string_view>

namespace aimo::proxy {

/// The path of one forwarded request, stage by stage, each in a file of its own:
///
///   read the body   openai/request.cpp           what is asked, in one pass
///   authenticate    governance/authenticate.cpp  who asks; refusals needing no price
///   resolve         routing/table.cpp            where it may go: an ordered plan
///   admit           governance/gate.cpp          reserve the worst case, or lower the limit
///   prepare         proxy/prepare.cpp            the body and headers as they go upstream
///   (cache lookup)                               seam for #14: a hit goes to respond
///   dispatch        routing/dispatch.cpp         attempts, retries, fallbacks, breakers
///   (scheduler)                                  seam for #15: capacity, fair queues
///   respond         proxy/respond.cpp            one decision for JSON, streams, keep-alive
///   settle          governance/meter.cpp         one record, the real cost, at the end
///
/// A refusal at any stage before dispatch has caused no upstream work at all. Thread-safe.
class Forwarder {
public:
    /// `stream_keepalive`: see RespondOptions::keepalive.
    Forwarder(routing::Gateway& gateway, governance::Gate& gate, metrics::Metrics* metrics,
              std::chrono::milliseconds stream_keepalive)
        : m_gateway(gateway), m_gate(gate), m_metrics(metrics), m_keepalive(stream_keepalive) {}

    /// Forwards `request` to the OpenAI `endpoint` (the path below /v1, e.g. "/chat/completions").
    /// Never throws: every failure is an OpenAI-shaped error response.
    Response forward(const Request& request, std::string_view endpoint);

private:
    routing::Gateway& m_gateway;
    governance::Gate& m_gate;
    metrics::Metrics* m_metrics;
    std::chrono::milliseconds m_keepalive;
};

} // namespace aimo::proxy
