#pragma once

#include "cache/cache.hpp"
#include "governance/gate.hpp"
#include "metrics/metrics.hpp"
#include "openai/request.hpp"
#include "proxy/types.hpp"
#include "routing/gateway.hpp"
#include "sched/scheduler.hpp"

#include <chrono>
#include <string_view>

namespace aimo::proxy {

/// The path of one forwarded request, stage by stage, each in a file of its own:
///
///   read the body   openai/request.cpp           what is asked, in one pass
///   authenticate    governance/authenticate.cpp  who asks; refusals needing no price
///   resolve         routing/table.cpp            where it may go: an ordered plan
///   cache lookup    cache/cache.cpp              a hit is answered from the store
///                                                (proxy/cached.cpp) without a reservation
///   admit           governance/gate.cpp          reserve the worst case, or lower the limit
///   prepare         proxy/prepare.cpp            the body and headers as they go upstream
///   dispatch        routing/dispatch.cpp         attempts, retries, fallbacks, breakers;
///     schedule      sched/scheduler.cpp          each attempt waits its turn at its provider
///   respond         proxy/respond.cpp            one decision for JSON, streams, keep-alive;
///                                                a miss's answer fills the cache on the way
///   settle          governance/meter.cpp         one record, the real cost, at the end
///
/// A refusal at any stage before dispatch has caused no upstream work at all. Thread-safe.
class Forwarder {
public:
    /// `stream_keepalive`: see RespondOptions::keepalive. `cache` may be null (no cache).
    /// `rate_window`: the "minute" of the providers' rpm and tpm. `shared`: counts kept with
    /// other instances, or null.
    Forwarder(routing::Gateway& gateway, governance::Gate& gate, metrics::Metrics* metrics,
              std::chrono::milliseconds stream_keepalive, cache::Cache* cache = nullptr,
              std::chrono::milliseconds rate_window = std::chrono::minutes(1),
              sched::SharedLimits* shared = nullptr)
        : m_gateway(gateway), m_gate(gate), m_metrics(metrics), m_keepalive(stream_keepalive),
          m_cache(cache), m_scheduler(rate_window, shared) {}

    /// The upstream capacity every attempt waits its turn for.
    sched::Scheduler& scheduler() { return m_scheduler; }

    /// Forwards `request` to the OpenAI `endpoint` (the path below /v1, e.g. "/chat/completions").
    /// Never throws: every failure is an OpenAI-shaped error response.
    Response forward(const Request& request, std::string_view endpoint);

private:
    Response serve_hit(const Request& request, const openai::BodySummary& body,
                       const governance::Caller& caller, const routing::Table& table,
                       cache::Lookup hit, std::string_view client);

    routing::Gateway& m_gateway;
    governance::Gate& m_gate;
    metrics::Metrics* m_metrics;
    std::chrono::milliseconds m_keepalive;
    cache::Cache* m_cache;
    sched::Scheduler m_scheduler;
};

} // namespace aimo::proxy
