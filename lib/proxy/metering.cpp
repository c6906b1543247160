#include "proxy/metering.hpp"

namespace aimo::proxy {

Metering::Metering(const Governance& governance, governance::Admission admission,
                   governance::UsageRecord record, std::pair<double, double> prices)
    : m_governance(governance), m_admission(std::move(admission)), m_record(std::move(record)),
      m_prices(prices) {}

Metering::~Metering() {
    finish(499); // the client went away before the answer was complete
}

void Metering::observe(const governance::TokenUsage& usage) {
    std::lock_guard lock(m_mutex);
    if (usage.found) {
        m_usage = usage;
    }
}

void Metering::set_provider(const std::string& provider) {
    std::lock_guard lock(m_mutex);
    m_record.provider = provider;
}

void Metering::set_prices(std::pair<double, double> prices) {
    std::lock_guard lock(m_mutex);
    m_prices = prices;
}

void Metering::count_attempts(const std::vector<routing::Attempt>& attempts) {
    if (m_governance.metrics == nullptr) {
        return;
    }
    for (const auto& attempt : attempts) {
        if (attempt.failed) {
            m_governance.metrics->upstream_error(attempt.provider, attempt.outcome);
        }
    }
}

void Metering::finish(int status) {
    std::lock_guard lock(m_mutex);
    if (m_finished) {
        return;
    }
    m_finished = true;
    m_record.status = status;
    m_record.prompt_tokens = m_usage.prompt;
    m_record.completion_tokens = m_usage.completion;
    m_record.cost_usd = governance::cost_usd(m_usage, m_prices.first, m_prices.second);
    m_record.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - m_start)
                              .count();
    // An upstream that ignores the request's limit costs more than was reserved: it was spent
    // all the same, so it is recorded, and flagged.
    m_record.over_reservation =
        m_admission.budgeted && m_record.cost_usd > m_admission.reserved_usd + 1e-12;
    if (m_governance.metrics != nullptr) {
        m_governance.metrics->request(m_record.agent, m_record.model, status,
                                      m_record.prompt_tokens, m_record.completion_tokens,
                                      m_record.cost_usd);
        if (m_record.over_reservation) {
            m_governance.metrics->over_reservation(m_record.agent);
        }
    }
    // The reservation gives way to the real cost now, so the agent's next request sees what
    // is left; the cost counts as pending until the record is committed, when it joins what
    // the database says was spent (a reload of agents meanwhile cannot drop it).
    auto* governor = m_governance.governor;
    if (governor != nullptr) {
        governor->settle(m_admission.agent, m_admission.reserved_usd,
                         m_record.prompt_tokens + m_record.completion_tokens, m_record.cost_usd,
                         std::chrono::steady_clock::now());
    }
    auto committed = [governor, agent = m_admission.agent](const governance::UsageRecord& record,
                                                           bool) {
        if (governor != nullptr) {
            governor->committed(agent, record.cost_usd);
        }
    };
    if (m_governance.ledger != nullptr) {
        m_governance.ledger->submit(std::move(m_record), committed);
    } else {
        committed(m_record, false);
    }
}

} // namespace aimo::proxy
