#pragma once

#include "core/context.hpp"
#include "governance/governor.hpp"
#include "governance/ledger.hpp"
#include "governance/meter.hpp"
#include "metrics/metrics.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace aimo::governance {

/// What the gate needs to know about one request to admit it.
struct RequestFacts {
    std::string id;    ///< the x-request-id its answer carries
    std::string model; ///< as the client named it
    size_t body_bytes = 0;
    std::optional<int64_t> max_tokens; ///< the request's own completion limit, if any
    bool completes = true;             ///< false for embeddings: no completion tokens
    std::string_view client;           ///< governance::client_of its User-Agent
    std::string_view dialect;          ///< UsageRecord::dialect
};

/// The governance stage of the forward pipeline: who may send what, at what cost, and the
/// accounting of every request, admitted or refused. Refusals are counted per minute in the
/// ledger and exactly in /metrics, never recorded one by one. Without a governor (database off)
/// everything passes; without a ledger nothing is recorded. Thread-safe.
class Gate {
public:
    /// Any part may be null: not in use.
    Gate(Governor* governor, Ledger* ledger, metrics::Metrics* metrics, core::Clock clock);

    /// Who is asking (the token alone); a refusal is counted. Never any upstream work.
    std::variant<Caller, Denial> identify(std::string_view authorization);
    /// identify(), then everything that refuses the request whatever it costs: a model the
    /// agent may not use, a rate limit reached, a budget spent.
    std::variant<Caller, Denial> authenticate(std::string_view authorization,
                                              std::string_view model);
    /// True when requests are metered (and so need their prices to be admitted).
    bool meters() const { return m_governor != nullptr || m_ledger != nullptr; }
    /// True when `caller` may use `model`.
    bool allows(const Caller& caller, std::string_view model);
    /// Reserves the request's worst case at `prices` (the dearest its route may use) and
    /// returns the Meter that records it when it ends (nullptr when nothing is metered), or a
    /// counted refusal. `provider` is the first target's, until another answers. `meanwhile`
    /// is as Governor::admit_while says: optional work, run while a remote admission waits.
    std::variant<std::shared_ptr<Meter>, Denial> admit(const Caller& caller,
                                                       const RequestFacts& facts, Prices prices,
                                                       const std::string& provider,
                                                       const std::function<void()>& meanwhile = {});
    /// A Meter for work done on behalf of `caller` that needs no admission of its own (the
    /// semantic cache's embedding call for an admitted request); nullptr when nothing is
    /// metered.
    std::shared_ptr<Meter> record(const Caller& caller, const RequestFacts& facts, Prices prices,
                                  const std::string& provider);
    /// Counts a request a later stage refused (no route for its model, say).
    void refuse(const std::optional<std::string>& agent, int status, std::string_view code);

private:
    std::string now_text() const;
    std::shared_ptr<Meter> meter(Admission admission, const RequestFacts& facts, Prices prices,
                                 const std::string& provider);

    Governor* m_governor;
    Ledger* m_ledger;
    metrics::Metrics* m_metrics;
    core::Clock m_clock;
};

} // namespace aimo::governance
