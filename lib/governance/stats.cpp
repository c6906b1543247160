#include "governance/stats.hpp"

#include "core/error.hpp"
#include "crypto/siwx.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <map>
#include <tuple>

namespace aimo::governance {

namespace {
// The 50th and 95th percentiles of `values` (sorted here); zeros when there are none.
std::pair<int64_t, int64_t> percentiles(std::vector<int64_t>& values) {
    if (values.empty()) {
        return {0, 0};
    }
    std::sort(values.begin(), values.end());
    auto at = [&](double q) {
        auto index = static_cast<size_t>(q * static_cast<double>(values.size() - 1) + 0.5);
        return values[std::min(index, values.size() - 1)];
    };
    return {at(0.50), at(0.95)};
}
} // namespace

std::vector<StatsRow> stats_since(Database& db, const std::string& since, std::string_view by) {
    return stats_since(std::vector<Database*>{&db}, since, by);
}

std::vector<StatsRow> stats_since(const std::vector<Database*>& ledgers, const std::string& since,
                                  std::string_view by) {
    // The grouping expression comes from this fixed list, never from the caller's text.
    const char* key = by == "agent"      ? "agent"
                      : by == "model"    ? "model"
                      : by == "provider" ? "provider"
                      : by == "client"   ? "CASE client WHEN '' THEN 'other' ELSE client END"
                      : by == "dialect"  ? "CASE dialect WHEN '' THEN 'chat' ELSE dialect END"
                      : by == "day"      ? "substr(time, 1, 10)"
                                         : nullptr;
    if (key == nullptr) {
        throw core::Error(core::ErrorKind::usage, fmt::format("cannot group by '{}'", by),
                          "use --by agent, model, provider, client, dialect or day");
    }
    struct Group {
        StatsRow row;
        std::vector<int64_t> latencies;
        std::vector<int64_t> waits;
    };
    std::map<std::string, Group, std::less<>> groups;
    for (Database* db : ledgers) {
        Statement select(
            db->handle(),
            fmt::format("SELECT {}, status, prompt_tokens, completion_tokens, cost_usd, "
                        "latency_us, cache, saved_usd, queue_us FROM requests WHERE time >= ?",
                        key));
        select.bind(1, std::string_view(since));
        while (select.step()) {
            std::string name = select.text(0);
            auto found = groups.find(name);
            if (found == groups.end()) {
                found = groups.emplace(name, Group{}).first;
                found->second.row.key = name;
            }
            auto& [row, latencies, waits] = found->second;
            std::string cache = select.text(6);
            if (cache == "embedding") { // a call the cache made, not a request: its cost counts
                row.tokens_in += select.integer(2);
                row.cost_usd += select.real(4);
                continue;
            }
            bool hit = cache == "hit" || cache == "hit-semantic";
            row.cache_hits += hit ? 1 : 0;
            row.cache_lookups += hit || cache == "miss" ? 1 : 0;
            row.saved_usd += select.real(7);
            ++row.requests;
            row.errors += select.integer(1) >= 400 ? 1 : 0;
            row.tokens_in += select.integer(2);
            row.tokens_out += select.integer(3);
            row.cost_usd += select.real(4);
            latencies.push_back(select.integer(5));
            waits.push_back(select.integer(8));
        }
        for (const auto& denial : denials_since(*db, since)) {
            std::string name = by == "agent" ? denial.agent
                               : by == "day" ? denial.minute.substr(0, 10)
                                             : std::string("(refused)");
            auto found = groups.find(name);
            if (found == groups.end()) {
                found = groups.emplace(name, Group{}).first;
                found->second.row.key = name;
            }
            found->second.row.denied += denial.count;
        }
    }
    std::vector<StatsRow> rows;
    for (auto& [name, group] : groups) {
        std::tie(group.row.p50_us, group.row.p95_us) = percentiles(group.latencies);
        std::tie(group.row.queue_p50_us, group.row.queue_p95_us) = percentiles(group.waits);
        rows.push_back(std::move(group.row));
    }
    std::sort(rows.begin(), rows.end(), [&](const StatsRow& a, const StatsRow& b) {
        return by == "day"
                   ? a.key < b.key
                   : (a.cost_usd != b.cost_usd ? a.cost_usd > b.cost_usd : a.requests > b.requests);
    });
    return rows;
}

std::string since_timestamp(std::string_view text, std::chrono::system_clock::time_point now) {
    auto bad = [&] {
        return core::Error(core::ErrorKind::usage, fmt::format("cannot read --since '{}'", text),
                           "use a date (2026-11-21), a UTC time (2026-11-21T08:00:00Z) or a "
                           "span back from now (30m, 24h, 7d)");
    };
    if (text.size() >= 2 && std::isalpha(static_cast<unsigned char>(text.back()))) {
        long long amount = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, amount);
        if (ec != std::errc() || ptr != text.data() + text.size() - 1 || amount < 0) {
            throw bad();
        }
        long long unit = text.back() == 'm'   ? 60
                         : text.back() == 'h' ? 3600
                         : text.back() == 'd' ? 86400
                                              : 0;
        if (unit == 0) {
            throw bad();
        }
        return crypto::format_timestamp(now - std::chrono::seconds(amount * unit));
    }
    if (text.size() < 10 || text[4] != '-' || text[7] != '-') {
        throw bad();
    }
    return std::string(text);
}

} // namespace aimo::governance
