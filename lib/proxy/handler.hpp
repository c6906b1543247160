#pragma once

#include "governance/gate.hpp"
#include "metrics/metrics.hpp"
#include "proxy/forwarder.hpp"
#include "proxy/types.hpp"
#include "routing/gateway.hpp"
#include "ui/dashboard.hpp"
#include "ui/owner.hpp"

namespace aimo::proxy {

/// The routes: /health, /metrics, /api/aimo/status, the model catalogue, the forwarded OpenAI
/// endpoints (to the Forwarder), and 404/405 for everything else. Knows nothing about HTTP framing;
/// thread-safe.
class Handler {
public:
    /// `metrics` may be null (no /metrics); `metrics_need_token`: /metrics asks for an agent's
    /// token while authentication is in force (set when aimo listens beyond loopback: the
    /// counters name agents and their spending).
    /// `dashboard`: the data behind /ui and /api/aimo/{agents,requests,series,balance}; null:
    /// none. `owner`: the owner actions (POST /api/aimo/agents…); null: read-only.
    Handler(routing::Gateway& gateway, governance::Gate& gate, Forwarder& forwarder,
            metrics::Metrics* metrics, bool metrics_need_token, ui::Dashboard* dashboard = nullptr,
            ui::OwnerDesk* owner = nullptr)
        : m_gateway(gateway), m_gate(gate), m_forwarder(forwarder), m_metrics(metrics),
          m_metrics_need_token(metrics_need_token), m_dashboard(dashboard), m_owner(owner) {}

    /// The wallet address the status shows (set before serving).
    void set_wallet(std::string address) { m_wallet = std::move(address); }

    /// Never throws: every failure becomes an OpenAI-shaped error response.
    Response handle(const Request& request);

private:
    Response metrics(const Request& request);
    Response status(const Request& request);
    /// /ui and the dashboard's JSON (handler_ui.cpp); nullopt for another path.
    std::optional<Response> dashboard(const Request& request, bool get);
    /// POST /api/aimo/agents[/NAME[/revoke]] (handler_ui.cpp); nullopt for another path.
    std::optional<Response> owner_action(const Request& request);
    /// A denial when the observability routes ask for a token and `authorization` (the
    /// request's Authorization header, or the page's ?token= as one) holds none.
    std::optional<Response> refuse_observer(std::string_view authorization);
    Response list_models(const Request& request);
    /// What the provider of the first target a request's model resolves to speaks: whether
    /// /v1/responses and /v1/messages go to it unchanged instead of being translated.
    struct FirstProvider {
        routing::ProviderKind kind;
        bool responses;
    };
    /// nullopt when the model is missing or has no route (the forwarder then says why).
    std::optional<FirstProvider> first_provider(const Request& request) const;
    /// Whether any provider is of kind anthropic (chat requests then need a look at theirs).
    bool has_anthropic_provider() const;
    Response get_model(const Request& request, std::string_view id);

    routing::Gateway& m_gateway;
    governance::Gate& m_gate;
    Forwarder& m_forwarder;
    metrics::Metrics* m_metrics;
    bool m_metrics_need_token;
    ui::Dashboard* m_dashboard;
    ui::OwnerDesk* m_owner;
    std::string m_wallet;
};

} // namespace aimo::proxy
