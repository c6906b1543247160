#pragma once

#include "proxy/body_scan.hpp"
#include "proxy/metering.hpp"
#include "proxy/types.hpp"
#include "routing/dispatch.hpp"
#include "routing/gateway.hpp"

#include <chrono>
#include <variant>

namespace aimo::proxy {

/// Answers every client request: health, the model catalogue, and the forwarded OpenAI
/// endpoints. Knows nothing about the HTTP library; thread-safe.
class Handler {
public:
    /// `stream_keepalive`: how long a streamed request waits for its first upstream byte before
    /// the response starts with SSE comment keep-alives (repeated at that interval); zero never.
    /// `governance`: token checks, limits and the usage ledger; empty parts are not in use.
    Handler(routing::Gateway& gateway, std::chrono::milliseconds stream_keepalive,
            Governance governance = {})
        : m_gateway(gateway), m_keepalive(stream_keepalive), m_governance(std::move(governance)) {}

    /// Never throws: every failure becomes an OpenAI-shaped error response.
    Response handle(const Request& request);

private:
    Response list_models(const Request& request);
    Response get_model(const Request& request, std::string_view id);
    /// Who sent `request`, or the 401 to answer (counted as a refusal).
    std::variant<governance::Caller, Response> caller_of(const Request& request,
                                                         std::string_view model);
    /// A request answered before anything was forwarded: counted per minute in the ledger and
    /// in /metrics, never recorded one by one.
    Response refused(const std::optional<std::string>& agent, std::string_view model,
                     Response response, std::string_view code);
    std::string now_text() const;
    Response forward(const Request& request, std::string_view rest);
    Response answer(const std::shared_ptr<routing::Dispatch>& dispatch,
                    std::chrono::steady_clock::time_point start,
                    const std::shared_ptr<Metering>& meter, bool strip_usage);
    Response keepalive_stream(std::shared_ptr<routing::Dispatch> dispatch, LogFields log,
                              std::shared_ptr<Metering> meter, bool strip_usage);
    /// Admission and metering for one request; a denial is returned as a response instead.
    std::variant<std::shared_ptr<Metering>, Response>
    meter_request(const Request& request, std::string_view rest, const BodySummary& summary,
                  const governance::Caller& caller, const routing::Table& table,
                  const routing::Plan& plan);

    routing::Gateway& m_gateway;
    std::chrono::milliseconds m_keepalive;
    Governance m_governance;
};

} // namespace aimo::proxy
