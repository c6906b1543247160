#include "proxy/metrics.hpp"

#include <fmt/format.h>

namespace aimo::proxy {

namespace {
// A label value with \, " and newlines escaped as the format requires.
std::string label(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}
} // namespace

void Metrics::Histogram::add(double seconds) {
    size_t i = 0;
    while (i < bounds.size() && seconds > bounds[i]) {
        ++i;
    }
    ++buckets[i];
    sum += seconds;
    ++count;
}

void Metrics::exchange_finished(int status, long long total_us, long long overhead_us) {
    --m_in_flight;
    std::lock_guard lock(m_mutex);
    ++m_http[status];
    m_duration.add(static_cast<double>(total_us) / 1e6);
    if (overhead_us > 0) {
        m_overhead.add(static_cast<double>(overhead_us) / 1e6);
    }
}

void Metrics::request(const std::string& agent, const std::string& model, int status,
                      int64_t prompt_tokens, int64_t completion_tokens, double cost_usd) {
    std::lock_guard lock(m_mutex);
    ++m_requests[{agent, model, status}];
    m_tokens[{agent, model, "prompt"}] += static_cast<uint64_t>(prompt_tokens);
    m_tokens[{agent, model, "completion"}] += static_cast<uint64_t>(completion_tokens);
    m_cost[{agent, model}] += cost_usd;
}

void Metrics::upstream_error(const std::string& provider, const std::string& outcome) {
    std::lock_guard lock(m_mutex);
    ++m_upstream_errors[{provider, outcome}];
}

std::string Metrics::render() const {
    std::lock_guard lock(m_mutex);
    std::string out;
    auto histogram = [&](const char* name, const char* help, const Histogram& h) {
        out += fmt::format("# HELP {} {}\n# TYPE {} histogram\n", name, help, name);
        uint64_t cumulative = 0;
        for (size_t i = 0; i < bounds.size(); ++i) {
            cumulative += h.buckets[i];
            out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds[i], cumulative);
        }
        out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n{}_sum {}\n{}_count {}\n", name, h.count,
                           name, h.sum, name, h.count);
    };
    out += "# HELP aimo_in_flight_requests Requests being handled now.\n"
           "# TYPE aimo_in_flight_requests gauge\n";
    out += fmt::format("aimo_in_flight_requests {}\n", m_in_flight.load());
    out += "# HELP aimo_http_responses_total HTTP responses by status, every route.\n"
           "# TYPE aimo_http_responses_total counter\n";
    for (const auto& [status, count] : m_http) {
        out += fmt::format("aimo_http_responses_total{{status=\"{}\"}} {}\n", status, count);
    }
    histogram("aimo_request_duration_seconds", "Time from request to last byte.", m_duration);
    histogram("aimo_proxy_overhead_seconds", "Time aimo itself adds before the answer starts.",
              m_overhead);
    out += "# HELP aimo_requests_total Forwarded requests by agent, model and status.\n"
           "# TYPE aimo_requests_total counter\n";
    for (const auto& [key, count] : m_requests) {
        const auto& [agent, model, status] = key;
        out += fmt::format("aimo_requests_total{{agent=\"{}\",model=\"{}\",status=\"{}\"}} {}\n",
                           label(agent), label(model), status, count);
    }
    out += "# HELP aimo_tokens_total Tokens reported by answers.\n"
           "# TYPE aimo_tokens_total counter\n";
    for (const auto& [key, count] : m_tokens) {
        const auto& [agent, model, type] = key;
        out += fmt::format("aimo_tokens_total{{agent=\"{}\",model=\"{}\",type=\"{}\"}} {}\n",
                           label(agent), label(model), type, count);
    }
    out += "# HELP aimo_cost_usd_total Cost of answers in USD.\n"
           "# TYPE aimo_cost_usd_total counter\n";
    for (const auto& [key, cost] : m_cost) {
        out += fmt::format("aimo_cost_usd_total{{agent=\"{}\",model=\"{}\"}} {}\n",
                           label(key.first), label(key.second), cost);
    }
    out += "# HELP aimo_upstream_errors_total Failed attempts at providers, by outcome.\n"
           "# TYPE aimo_upstream_errors_total counter\n";
    for (const auto& [key, count] : m_upstream_errors) {
        out += fmt::format("aimo_upstream_errors_total{{provider=\"{}\",outcome=\"{}\"}} {}\n",
                           label(key.first), label(key.second), count);
    }
    return out;
}

} // namespace aimo::proxy
