#include "metrics/metrics.hpp"

#include <fmt/format.h>

namespace aimo::metrics {

namespace {
// A label value with \, " and newlines escaped as the format requires; other control
// characters (model names come from clients) would break a line-based reader and become '?'.
std::string label(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            out += '?';
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

void Metrics::request(std::string_view agent, std::string_view model, int status,
                      int64_t prompt_tokens, int64_t completion_tokens, double cost_usd) {
    std::lock_guard lock(m_mutex);
    auto by_agent = m_by_agent.find(agent);
    if (by_agent == m_by_agent.end()) {
        by_agent = m_by_agent.emplace(std::string(agent), decltype(by_agent->second){}).first;
    }
    auto& models = by_agent->second;
    auto per_model = models.find(model);
    if (per_model == models.end()) {
        // Model names come from clients: a bounded number of series, the rest pooled.
        constexpr size_t max_series = 10'000;
        std::string_view name = ++m_series <= max_series ? model : "(other)";
        per_model = models.find(name);
        if (per_model == models.end()) {
            per_model = models.emplace(std::string(name), PerModel{}).first;
        } else {
            --m_series;
        }
    }
    auto& counters = per_model->second;
    ++counters.requests[status];
    counters.prompt_tokens += static_cast<uint64_t>(prompt_tokens);
    counters.completion_tokens += static_cast<uint64_t>(completion_tokens);
    counters.cost_usd += cost_usd;
}

void Metrics::upstream_error(const std::string& provider, const std::string& outcome) {
    std::lock_guard lock(m_mutex);
    ++m_upstream_errors[{provider, outcome}];
}

void Metrics::denial(std::string_view agent, int status, std::string_view code) {
    std::lock_guard lock(m_mutex);
    auto key = std::make_tuple(std::string(agent), status, std::string(code));
    ++m_denials[std::move(key)];
}

void Metrics::over_reservation(std::string_view agent) {
    std::lock_guard lock(m_mutex);
    auto found = m_over_reservation.find(agent);
    if (found == m_over_reservation.end()) {
        found = m_over_reservation.emplace(std::string(agent), 0).first;
    }
    ++found->second;
}

void Metrics::cache_request(std::string_view result) {
    std::lock_guard lock(m_mutex);
    auto found = m_cache_requests.find(result);
    if (found == m_cache_requests.end()) {
        found = m_cache_requests.emplace(std::string(result), 0).first;
    }
    ++found->second;
}

void Metrics::cache_saved(double usd) {
    std::lock_guard lock(m_mutex);
    m_cache_saved += usd;
}

void Metrics::queue_wait(double seconds) {
    std::lock_guard lock(m_mutex);
    m_queue_wait.add(seconds);
}

std::string Metrics::render(const std::vector<QueueState>& queues) const {
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
    histogram("aimo_queue_wait_seconds",
              "Time the requests that had to wait spent in aimo's queue.", m_queue_wait);
    auto gauge = [&](const char* name, const char* help, auto&& value) {
        out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", name, help, name);
        for (const auto& queue : queues) {
            out += fmt::format("{}{{provider=\"{}\"}} {}\n", name, label(queue.provider),
                               value(queue));
        }
    };
    gauge("aimo_upstream_in_flight", "Requests out at a provider now.",
          [](const QueueState& q) { return q.in_flight; });
    gauge("aimo_upstream_held_seconds",
          "What is left of a back-off a provider asked for (Retry-After); 0 when none.",
          [](const QueueState& q) { return q.held_seconds; });
    gauge("aimo_upstream_window_requests",
          "Requests started at a provider in the last minute (counted when it has an rpm).",
          [](const QueueState& q) { return q.window_requests; });
    gauge("aimo_upstream_window_tokens",
          "Tokens used at a provider in the last minute (counted when it has a tpm).",
          [](const QueueState& q) { return q.window_tokens; });
    out += "# HELP aimo_queue_depth Requests waiting to go to a provider, by agent.\n"
           "# TYPE aimo_queue_depth gauge\n";
    for (const auto& queue : queues) {
        for (const auto& [agent, count] : queue.queued_by_agent) {
            out += fmt::format("aimo_queue_depth{{provider=\"{}\",agent=\"{}\"}} {}\n",
                               label(queue.provider), label(agent), count);
        }
    }
    // One pass per family: the format wants each metric's samples together.
    auto each_model = [&](auto&& write) {
        for (const auto& [agent, models] : m_by_agent) {
            for (const auto& [model, counters] : models) {
                write(label(agent), label(model), counters);
            }
        }
    };
    out += "# HELP aimo_requests_total Forwarded requests by agent, model and status.\n"
           "# TYPE aimo_requests_total counter\n";
    each_model([&](const std::string& agent, const std::string& model, const PerModel& counters) {
        for (const auto& [status, count] : counters.requests) {
            out +=
                fmt::format("aimo_requests_total{{agent=\"{}\",model=\"{}\",status=\"{}\"}} {}\n",
                            agent, model, status, count);
        }
    });
    out += "# HELP aimo_tokens_total Tokens reported by answers.\n"
           "# TYPE aimo_tokens_total counter\n";
    each_model([&](const std::string& agent, const std::string& model, const PerModel& counters) {
        out +=
            fmt::format("aimo_tokens_total{{agent=\"{0}\",model=\"{1}\",type=\"completion\"}} {2}\n"
                        "aimo_tokens_total{{agent=\"{0}\",model=\"{1}\",type=\"prompt\"}} {3}\n",
                        agent, model, counters.completion_tokens, counters.prompt_tokens);
    });
    out += "# HELP aimo_cost_usd_total Cost of answers in USD.\n"
           "# TYPE aimo_cost_usd_total counter\n";
    each_model([&](const std::string& agent, const std::string& model, const PerModel& counters) {
        out += fmt::format("aimo_cost_usd_total{{agent=\"{}\",model=\"{}\"}} {}\n", agent, model,
                           counters.cost_usd);
    });
    out += "# HELP aimo_denied_requests_total Requests refused before they were forwarded.\n"
           "# TYPE aimo_denied_requests_total counter\n";
    for (const auto& [key, count] : m_denials) {
        const auto& [agent, status, code] = key;
        out +=
            fmt::format("aimo_denied_requests_total{{agent=\"{}\",status=\"{}\",code=\"{}\"}} {}\n",
                        label(agent), status, label(code), count);
    }
    out += "# HELP aimo_over_reservation_total Answers that cost more than their agent had "
           "reserved (an upstream ignored max_tokens).\n"
           "# TYPE aimo_over_reservation_total counter\n";
    for (const auto& [agent, count] : m_over_reservation) {
        out += fmt::format("aimo_over_reservation_total{{agent=\"{}\"}} {}\n", label(agent), count);
    }
    out += "# HELP aimo_cache_requests_total Forwarded requests by response cache result.\n"
           "# TYPE aimo_cache_requests_total counter\n";
    for (const auto& [result, count] : m_cache_requests) {
        out += fmt::format("aimo_cache_requests_total{{result=\"{}\"}} {}\n", label(result), count);
    }
    out += fmt::format("# HELP aimo_cache_saved_usd_total What cache hits would have cost "
                       "upstream.\n# TYPE aimo_cache_saved_usd_total counter\n"
                       "aimo_cache_saved_usd_total {:.9f}\n",
                       m_cache_saved);
    out += "# HELP aimo_upstream_errors_total Failed attempts at providers, by outcome.\n"
           "# TYPE aimo_upstream_errors_total counter\n";
    for (const auto& [key, count] : m_upstream_errors) {
        out += fmt::format("aimo_upstream_errors_total{{provider=\"{}\",outcome=\"{}\"}} {}\n",
                           label(key.first), label(key.second), count);
    }
    return out;
}

} // namespace aimo::metrics
