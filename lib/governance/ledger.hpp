#pragma once

#include "governance/db.hpp"

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace aimo::governance {

/// How the ledger writes "no agent" (a request while no authentication was in force).
inline constexpr std::string_view no_agent = "-";

/// One finished request as recorded: no prompt or completion text, ever.
struct UsageRecord {
    std::string time; ///< UTC, RFC 3339
    std::string request_id;
    std::string agent; ///< as stored: no_agent without authentication
    std::string model;
    std::string provider;
    int status = 0;
    int64_t prompt_tokens = 0;
    int64_t completion_tokens = 0;
    double cost_usd = 0;
    int64_t latency_us = 0;
    /// The real cost passed what was reserved for it (the upstream ignored the request's limit).
    bool over_reservation = false;
    /// The response cache's part: "" (not cacheable or no cache), "miss", "hit",
    /// "hit-semantic", or "embedding" (a call the semantic cache made on the agent's behalf).
    std::string cache;
    /// On a hit: what the answer would have cost upstream, in USD.
    double saved_usd = 0;
    /// Which client sent it ("openclaw", "claude-code", "codex", "openai-sdk", "curl", …,
    /// "other"), from its User-Agent.
    std::string client;
    /// Microseconds it waited in aimo's queue for its turn at a provider.
    int64_t queue_us = 0;
    /// The API the client spoke: "" (OpenAI's own), "messages" (Anthropic), "responses".
    std::string dialect;
};

/// Refusals of one agent with one status and code in one minute: counted, not recorded one by
/// one, so that refused requests cannot grow the database without bound.
struct DenialCount {
    std::string minute; ///< "2026-12-01T21:34", UTC
    std::string agent;  ///< "-" when the token named no agent
    int status = 0;
    std::string code;
    int64_t count = 0;
};

/// A record as stored, with its place in the hash chain.
struct StoredRecord {
    int64_t seq = 0;
    UsageRecord record;
    std::string prev_hash;
    std::string hash;
};

/// The hash of the record before the first one.
inline const std::string genesis_hash(64, '0');

/// SHA-256 (hex) over the previous hash and every field of the record, in a fixed layout.
/// Fields added later join the text only when they differ from their default, so records
/// stored before them keep their hashes.
std::string chain_hash(const StoredRecord& record);
/// The same, for `record` stored as number `seq` after a record hashed `prev_hash`.
std::string chain_hash(std::string_view prev_hash, int64_t seq, const UsageRecord& record);

/// Appends records to the requests table, each chained to the one before it, from a writer
/// thread: a request never waits for the disk. Each agent's running total (agents.spent_usd)
/// grows in the same transaction as its records. The writer gathers records for up to 10 ms (or
/// 512 records) and commits them in one transaction. A record is *settled* once
/// committed; its callback runs then (on the writer thread). Destruction commits everything
/// queued. Thread-safe.
class Ledger {
public:
    /// Runs after a record's batch was committed (true) or failed to commit (false). Whatever
    /// the record itself says need not be captured: a small callback is stored without a
    /// heap allocation.
    using Committed = std::function<void(const UsageRecord& record, bool stored)>;

    /// `on_error` hears about batches that could not be stored.
    explicit Ledger(Database& db, std::function<void(const std::string&)> on_error = {});
    ~Ledger();
    Ledger(const Ledger&) = delete;
    Ledger& operator=(const Ledger&) = delete;

    /// Queues a record for the next batch.
    void submit(UsageRecord record, Committed committed = {});
    /// Counts one refused request (at `time`, RFC 3339) in its minute's total, stored with
    /// the next batch.
    void count_denial(std::string_view time, std::string_view agent, int status,
                      std::string_view code);
    /// Returns once everything submitted before the call is committed.
    void flush();

private:
    struct Pending {
        UsageRecord record;
        Committed committed;
    };
    void run();
    void write(std::vector<Pending>& batch, const std::vector<DenialCount>& denials);

    Database& m_db;
    std::function<void(const std::string&)> m_on_error;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_done;
    std::vector<Pending> m_queue;
    std::map<std::tuple<std::string, std::string, int, std::string>, int64_t> m_denials;
    uint64_t m_denials_queued = 0; ///< count_denial calls in m_denials, for flush()
    uint64_t m_submitted = 0;
    uint64_t m_written = 0;
    int m_flushes = 0; ///< callers waiting in flush(): write without gathering
    bool m_stopping = false;
    // Prepared once: a batch costs one short transaction, not a parse per statement.
    std::unique_ptr<Statement> m_begin;
    std::unique_ptr<Statement> m_last;
    std::unique_ptr<Statement> m_insert;
    std::unique_ptr<Statement> m_spend;
    std::unique_ptr<Statement> m_deny;
    std::unique_ptr<Statement> m_commit;
    std::unique_ptr<Statement> m_rollback;
    std::thread m_thread;
};

/// Result of checking the chain.
struct AuditResult {
    bool ok = true;
    int64_t records = 0;   ///< records checked
    int64_t first_bad = 0; ///< sequence number of the first bad record
    std::string problem;   ///< what is wrong with it
};

/// What is wrong with item `seq` of a hash chain where `expected_seq` and `expected_prev`
/// were due next and whose content does or does not match its hash; empty when nothing.
/// `noun` names the items in the message ("record", "action").
std::string chain_link_problem(std::string_view noun, int64_t seq, int64_t expected_seq,
                               std::string_view prev_hash, std::string_view expected_prev,
                               bool hash_matches);

/// Walks every record in order and checks each hash, each link and the numbering: an edited,
/// removed or reordered record makes it fail, naming the first bad one.
AuditResult verify_chain(Database& db);

/// Refusal counts from `since` (a timestamp; empty: all), oldest minute first.
std::vector<DenialCount> denials_since(Database& db, const std::string& since);

/// The last `count` records, oldest first.
std::vector<StoredRecord> read_records(Database& db, int64_t count);
/// The records after sequence number `seq`, oldest first.
std::vector<StoredRecord> records_after(Database& db, int64_t seq);

} // namespace aimo::governance
