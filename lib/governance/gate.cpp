#include "governance/gate.hpp"

#include "crypto/siwx.hpp"

namespace aimo::governance {

Gate::Gate(Governor* governor, Ledger* ledger, metrics::Metrics* metrics, core::Clock clock)
    : m_governor(governor), m_ledger(ledger), m_metrics(metrics), m_clock(std::move(clock)) {}

std::string Gate::now_text() const {
    return crypto::format_timestamp(m_clock ? m_clock() : std::chrono::system_clock::now());
}

void Gate::refuse(const std::optional<std::string>& agent, int status, std::string_view code) {
    std::string_view who = agent ? std::string_view(*agent) : no_agent;
    if (m_metrics != nullptr) {
        m_metrics->denial(who, status, code);
    }
    if (m_ledger != nullptr) {
        m_ledger->count_denial(now_text(), who, status, code);
    }
}

std::variant<std::shared_ptr<Meter>, Denial> Gate::admit(const Caller& caller,
                                                         const RequestFacts& facts, Prices prices,
                                                         const std::string& provider,
                                                         const std::function<void()>& meanwhile) {
    if (m_governor == nullptr && m_ledger == nullptr) {
        return std::shared_ptr<Meter>();
    }
    Admission admission;
    if (m_governor != nullptr) {
        Estimate estimate;
        estimate.prompt_tokens = static_cast<int64_t>(facts.body_bytes);
        estimate.completion_tokens = facts.max_tokens;
        estimate.completes = facts.completes;
        estimate.price_in = prices.in;
        estimate.price_out = prices.out;
        auto decision = m_governor->admit_while(caller, facts.model, estimate,
                                                std::chrono::steady_clock::now(), meanwhile);
        if (auto* denial = std::get_if<Denial>(&decision)) {
            refuse(denial->agent, denial->status, denial->code);
            return std::move(*denial);
        }
        admission = std::get<Admission>(std::move(decision));
    }
    return meter(std::move(admission), facts, prices, provider);
}

std::shared_ptr<Meter> Gate::record(const Caller& caller, const RequestFacts& facts, Prices prices,
                                    const std::string& provider) {
    if (m_governor == nullptr && m_ledger == nullptr) {
        return nullptr;
    }
    Admission admission;
    admission.agent = caller.agent;
    return meter(std::move(admission), facts, prices, provider);
}

std::shared_ptr<Meter> Gate::meter(Admission admission, const RequestFacts& facts, Prices prices,
                                   const std::string& provider) {
    UsageRecord record;
    record.time = now_text();
    record.request_id = facts.id;
    record.agent = admission.agent ? *admission.agent : std::string(no_agent);
    record.model = facts.model;
    record.provider = provider;
    record.client = std::string(facts.client);
    record.dialect = std::string(facts.dialect);
    return std::make_shared<Meter>(m_governor, m_ledger, m_metrics, std::move(admission),
                                   std::move(record), prices);
}

} // namespace aimo::governance
