#include "governance/meter.hpp"

namespace aimo::governance {

double cost_usd(const openai::TokenUsage& usage, const Prices& prices) {
    return (static_cast<double>(usage.prompt) * prices.in +
            static_cast<double>(usage.completion) * prices.out) /
           1e6;
}

Meter::Meter(Governor* governor, Ledger* ledger, metrics::Metrics* metrics, Admission admission,
             UsageRecord record, Prices prices)
    : m_governor(governor), m_ledger(ledger), m_metrics(metrics), m_admission(std::move(admission)),
      m_record(std::move(record)), m_prices(prices) {}

Meter::~Meter() {
    finish(499); // the client went away before the answer was complete
}

openai::TokenUsage Meter::observe(const openai::TokenUsage& usage) {
    std::lock_guard lock(m_mutex);
    if (usage.found) {
        auto prompt = m_usage.prompt;
        bool had_prompt = m_usage.has_prompt;
        m_usage = usage;
        if (!usage.has_prompt && had_prompt) {
            m_usage.prompt = prompt;
            m_usage.has_prompt = true;
        }
    }
    return m_usage;
}

void Meter::set_provider(const std::string& provider, std::optional<Prices> prices) {
    std::lock_guard lock(m_mutex);
    m_record.provider = provider;
    if (prices) {
        m_prices = *prices;
    }
}

void Meter::set_cache(std::string_view result, double saved_usd) {
    std::lock_guard lock(m_mutex);
    m_record.cache = std::string(result);
    m_record.saved_usd = saved_usd;
}

void Meter::set_queue_wait(int64_t microseconds) {
    std::lock_guard lock(m_mutex);
    m_record.queue_us = microseconds;
}

void Meter::finish(int status) {
    std::lock_guard lock(m_mutex);
    if (m_finished) {
        return;
    }
    m_finished = true;
    m_record.status = status;
    m_record.prompt_tokens = m_usage.prompt;
    m_record.completion_tokens = m_usage.completion;
    m_record.cost_usd = cost_usd(m_usage, m_prices);
    m_record.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - m_start)
                              .count();
    // An upstream that ignores the request's limit costs more than was reserved: it was spent
    // all the same, so it is recorded, and flagged.
    m_record.over_reservation =
        m_admission.budgeted && m_record.cost_usd > m_admission.reserved_usd + 1e-12;
    if (m_metrics != nullptr && m_record.cache != "embedding") {
        m_metrics->request(m_record.agent, m_record.model, status, m_record.prompt_tokens,
                           m_record.completion_tokens, m_record.cost_usd);
        if (m_record.over_reservation) {
            m_metrics->over_reservation(m_record.agent);
        }
    }
    // The reservation gives way to the real cost now, so the agent's next request sees what
    // is left; the cost counts as pending until the record is committed, when it joins what
    // the database says was spent (a reload of agents meanwhile cannot drop it).
    if (m_governor != nullptr) {
        m_governor->settle(m_admission, m_record.prompt_tokens + m_record.completion_tokens,
                           m_record.cost_usd, std::chrono::steady_clock::now());
    }
    // Only a pointer captured: the callback needs no allocation on the request's thread.
    auto committed = [governor = m_governor](const UsageRecord& record, bool) {
        if (governor != nullptr && record.agent != no_agent) {
            governor->committed(record.agent, record.cost_usd);
        }
    };
    if (m_ledger != nullptr) {
        m_ledger->submit(std::move(m_record), committed);
    } else {
        committed(m_record, false);
    }
}

} // namespace aimo::governance
