#include "governance/ledger.hpp"

#include "core/error.hpp"
#include "crypto/encoding.hpp"

#include <algorithm>
#include <charconv>
#include <fmt/format.h>
#include <iterator>

namespace aimo::governance {

std::string chain_hash(const StoredRecord& stored) {
    return chain_hash(stored.prev_hash, stored.seq, stored.record);
}

std::string chain_hash(std::string_view prev_hash, int64_t seq, const UsageRecord& r) {
    // Written out by hand (a format string of twelve fields is parsed on every call), but
    // byte for byte the layout every stored hash was made from: fields joined by newlines,
    // the cost with twelve decimals.
    std::string text;
    text.reserve(prev_hash.size() + r.time.size() + r.request_id.size() + r.agent.size() +
                 r.model.size() + r.provider.size() + 128);
    auto field = [&](std::string_view value) {
        text.append(value);
        text += '\n';
    };
    auto number = [&](int64_t value) {
        char digits[24];
        auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
        field(std::string_view(digits, static_cast<size_t>(end - digits)));
    };
    field(prev_hash);
    number(seq);
    field(r.time);
    field(r.request_id);
    field(r.agent);
    field(r.model);
    field(r.provider);
    number(r.status);
    number(r.prompt_tokens);
    number(r.completion_tokens);
    fmt::format_to(std::back_inserter(text), "{:.12f}\n", r.cost_usd);
    number(r.latency_us);
    if (r.over_reservation) { // schema 3; absent (false) in every earlier record
        field("over_reservation");
    }
    // Schema 4; empty (or zero) in every earlier record, and then not part of the text.
    if (!r.cache.empty()) {
        field("cache=" + r.cache);
    }
    if (r.saved_usd != 0) {
        fmt::format_to(std::back_inserter(text), "saved={:.12f}\n", r.saved_usd);
    }
    if (!r.client.empty()) {
        field("client=" + r.client);
    }
    if (r.queue_us != 0) { // schema 5, likewise
        field("queue_us=" + std::to_string(r.queue_us));
    }
    if (!r.dialect.empty()) { // schema 6, likewise
        field("dialect=" + r.dialect);
    }
    text.pop_back(); // no newline after the last field
    return crypto::sha256_hex(text);
}

namespace {
constexpr auto batch_window = std::chrono::milliseconds(10);
constexpr size_t max_batch = 512;
} // namespace

Ledger::Ledger(Database& db, std::function<void(const std::string&)> on_error)
    : m_db(db), m_on_error(std::move(on_error)),
      m_begin(std::make_unique<Statement>(db.handle(), "BEGIN IMMEDIATE")),
      m_last(std::make_unique<Statement>(
          db.handle(), "SELECT seq, hash FROM requests ORDER BY seq DESC LIMIT 1")),
      m_insert(std::make_unique<Statement>(
          db.handle(),
          "INSERT INTO requests (seq, time, request_id, agent, model, provider, "
          "status, prompt_tokens, completion_tokens, cost_usd, latency_us, "
          "prev_hash, hash, over_reservation, cache, saved_usd, client, queue_us, "
          "dialect) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")),
      m_spend(std::make_unique<Statement>(
          db.handle(), "UPDATE agents SET spent_usd = spent_usd + ? WHERE name = ?")),
      m_deny(std::make_unique<Statement>(
          db.handle(), "INSERT INTO denials (minute, agent, status, code, count) "
                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT (minute, agent, status, code) "
                       "DO UPDATE SET count = count + excluded.count")),
      m_commit(std::make_unique<Statement>(db.handle(), "COMMIT")),
      m_rollback(std::make_unique<Statement>(db.handle(), "ROLLBACK")),
      m_thread([this] { run(); }) {}

Ledger::~Ledger() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

void Ledger::submit(UsageRecord record, Committed committed) {
    bool wake = false;
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back({std::move(record), std::move(committed)});
        ++m_submitted;
        // Waking the writer for every record would cost a context switch per request: only
        // the first record of a batch and a full batch need it.
        wake = m_queue.size() == 1 || m_queue.size() >= max_batch;
    }
    if (wake) {
        m_wake.notify_one();
    }
}

void Ledger::count_denial(std::string_view time, std::string_view agent, int status,
                          std::string_view code) {
    bool wake = false;
    {
        std::lock_guard lock(m_mutex);
        auto key = std::make_tuple(std::string(time.substr(0, 16)), std::string(agent), status,
                                   std::string(code));
        ++m_denials[std::move(key)];
        ++m_denials_queued;
        ++m_submitted;
        wake = m_queue.empty() && m_denials_queued == 1;
    }
    if (wake) {
        m_wake.notify_one();
    }
}

void Ledger::flush() {
    std::unique_lock lock(m_mutex);
    uint64_t target = m_submitted;
    ++m_flushes;
    m_wake.notify_all();
    m_done.wait(lock, [&] { return m_written >= target; });
    --m_flushes;
}

void Ledger::run() {
    std::vector<Pending> batch;
    std::vector<DenialCount> denials;
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty() || !m_denials.empty(); });
        if (m_queue.empty() && m_denials.empty()) {
            return; // stopping, and everything is written
        }
        // Let a batch gather: one commit for many records keeps the disk off the CPU the
        // requests need. flush() and shutdown cut the wait short.
        m_wake.wait_for(lock, batch_window, [this] {
            return m_stopping || m_flushes > 0 || m_queue.size() >= max_batch;
        });
        batch.swap(m_queue);
        for (auto& [key, count] : m_denials) {
            auto& [minute, agent, status, code] = key;
            denials.push_back({minute, agent, status, code, count});
        }
        m_denials.clear();
        uint64_t denial_calls = m_denials_queued;
        m_denials_queued = 0;
        lock.unlock();
        write(batch, denials);
        for (auto& pending : batch) {
            if (pending.committed) {
                pending.committed(pending.record, true);
            }
        }
        size_t count = batch.size();
        batch.clear();
        denials.clear();
        lock.lock();
        m_written += count + denial_calls;
        m_done.notify_all();
    }
}

void Ledger::write(std::vector<Pending>& batch, const std::vector<DenialCount>& denials) {
    try {
        m_begin->run();
        int64_t seq = 0;
        std::string prev_hash = genesis_hash;
        if (m_last->step()) {
            seq = m_last->integer(0);
            prev_hash = m_last->text(1);
        }
        m_last->reset();
        for (const auto& pending : batch) {
            const auto& record = pending.record;
            ++seq;
            std::string hash = chain_hash(prev_hash, seq, record);
            // Every bound string outlives run(), which resets the statement.
            m_insert->bind(1, seq)
                .bind_unowned(2, record.time)
                .bind_unowned(3, record.request_id)
                .bind_unowned(4, record.agent)
                .bind_unowned(5, record.model)
                .bind_unowned(6, record.provider)
                .bind(7, static_cast<int64_t>(record.status))
                .bind(8, record.prompt_tokens)
                .bind(9, record.completion_tokens)
                .bind(10, record.cost_usd)
                .bind(11, record.latency_us)
                .bind_unowned(12, prev_hash)
                .bind_unowned(13, hash)
                .bind(14, static_cast<int64_t>(record.over_reservation ? 1 : 0))
                .bind_unowned(15, record.cache)
                .bind(16, record.saved_usd)
                .bind_unowned(17, record.client)
                .bind(18, record.queue_us)
                .bind_unowned(19, record.dialect);
            m_insert->run();
            prev_hash = std::move(hash);
        }
        // One update per agent in the batch (a handful), not per record.
        std::vector<std::pair<std::string_view, double>> spent;
        for (const auto& pending : batch) {
            const auto& record = pending.record;
            auto same = std::find_if(spent.begin(), spent.end(), [&](const auto& entry) {
                return entry.first == record.agent;
            });
            if (same == spent.end()) {
                spent.emplace_back(record.agent, record.cost_usd);
            } else {
                same->second += record.cost_usd;
            }
        }
        for (const auto& [agent, cost] : spent) {
            if (cost != 0) {
                m_spend->bind(1, cost).bind_unowned(2, agent);
                m_spend->run();
            }
        }
        for (const auto& denial : denials) {
            m_deny->bind_unowned(1, denial.minute)
                .bind_unowned(2, denial.agent)
                .bind(3, static_cast<int64_t>(denial.status))
                .bind_unowned(4, denial.code)
                .bind(5, denial.count);
            m_deny->run();
        }
        m_commit->run();
    } catch (const core::Error& e) {
        m_last->reset();
        m_insert->reset();
        m_spend->reset();
        m_deny->reset();
        try {
            m_rollback->run();
        } catch (const core::Error&) {
        }
        if (m_on_error) {
            m_on_error(fmt::format("{} usage records and {} refusal counts not stored: {}",
                                   batch.size(), denials.size(), e.what()));
        }
        for (auto& pending : batch) {
            if (pending.committed) {
                pending.committed(pending.record, false);
            }
            pending.committed = nullptr; // already told
        }
    }
}

namespace {
constexpr const char* columns =
    "seq, time, request_id, agent, model, provider, status, "
    "prompt_tokens, completion_tokens, cost_usd, latency_us, "
    "prev_hash, hash, over_reservation, cache, saved_usd, client, queue_us, dialect";

StoredRecord read_row(const Statement& row) {
    StoredRecord stored;
    stored.seq = row.integer(0);
    auto& r = stored.record;
    r.time = row.text(1);
    r.request_id = row.text(2);
    r.agent = row.text(3);
    r.model = row.text(4);
    r.provider = row.text(5);
    r.status = static_cast<int>(row.integer(6));
    r.prompt_tokens = row.integer(7);
    r.completion_tokens = row.integer(8);
    r.cost_usd = row.real(9);
    r.latency_us = row.integer(10);
    stored.prev_hash = row.text(11);
    stored.hash = row.text(12);
    r.over_reservation = row.integer(13) != 0;
    r.cache = row.text(14);
    r.saved_usd = row.real(15);
    r.client = row.text(16);
    r.queue_us = row.integer(17);
    r.dialect = row.text(18);
    return stored;
}
} // namespace

std::string chain_link_problem(std::string_view noun, int64_t seq, int64_t expected_seq,
                               std::string_view prev_hash, std::string_view expected_prev,
                               bool hash_matches) {
    if (seq != expected_seq) {
        return seq > expected_seq
                   ? fmt::format("{}s {}..{} are missing", noun, expected_seq, seq - 1)
                   : fmt::format("out of order: expected {} {}", noun, expected_seq);
    }
    if (prev_hash != expected_prev) {
        return fmt::format("its link to the previous {} is broken (one was removed or reordered)",
                           noun);
    }
    return hash_matches ? "" : "its content does not match its hash (it was edited)";
}

AuditResult verify_chain(Database& db) {
    AuditResult result;
    Statement rows(db.handle(), fmt::format("SELECT {} FROM requests ORDER BY rowid", columns));
    std::string expected_prev = genesis_hash;
    int64_t expected_seq = 1;
    while (rows.step()) {
        auto stored = read_row(rows);
        ++result.records;
        auto problem = chain_link_problem("record", stored.seq, expected_seq, stored.prev_hash,
                                          expected_prev, chain_hash(stored) == stored.hash);
        if (!problem.empty()) {
            result.ok = false;
            result.first_bad = stored.seq;
            result.problem = fmt::format("record {} (request {}): {}", stored.seq,
                                         stored.record.request_id, problem);
            return result;
        }
        expected_prev = stored.hash;
        ++expected_seq;
    }
    return result;
}

namespace {
// Runs `sql` (selecting `columns`, one bound parameter) and reads every row.
template <typename Value>
std::vector<StoredRecord> select_records(Database& db, const std::string& sql, Value parameter) {
    Statement rows(db.handle(), sql);
    rows.bind(1, parameter);
    std::vector<StoredRecord> out;
    while (rows.step()) {
        out.push_back(read_row(rows));
    }
    return out;
}
} // namespace

std::vector<StoredRecord> records_after(Database& db, int64_t seq) {
    return select_records(
        db, fmt::format("SELECT {} FROM requests WHERE seq > ? ORDER BY seq", columns), seq);
}

std::vector<DenialCount> denials_since(Database& db, const std::string& since) {
    Statement rows(db.handle(), "SELECT minute, agent, status, code, count FROM denials WHERE "
                                "minute >= substr(?, 1, 16) ORDER BY minute, agent, status");
    rows.bind(1, std::string_view(since));
    std::vector<DenialCount> out;
    while (rows.step()) {
        out.push_back({rows.text(0), rows.text(1), static_cast<int>(rows.integer(2)), rows.text(3),
                       rows.integer(4)});
    }
    return out;
}

std::vector<StoredRecord> read_records(Database& db, int64_t count) {
    return select_records(db,
                          fmt::format("SELECT {} FROM (SELECT * FROM requests ORDER BY seq DESC "
                                      "LIMIT ?) ORDER BY seq",
                                      columns),
                          count);
}

} // namespace aimo::governance
