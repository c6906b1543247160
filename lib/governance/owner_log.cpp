#include "governance/owner_log.hpp"

#include "crypto/encoding.hpp"

#include <fmt/format.h>

namespace aimo::governance {

namespace {
constexpr const char* columns = "seq, time, action, agent, detail, origin, prev_hash, hash";

std::string hash_of(const OwnerAction& a) {
    return crypto::sha256_hex(fmt::format("{}\n{}\n{}\n{}\n{}\n{}\n{}", a.prev_hash, a.seq, a.time,
                                          a.action, a.agent, a.detail, a.origin));
}

OwnerAction read_row(const Statement& row) {
    return {row.integer(0), row.text(1), row.text(2), row.text(3),
            row.text(4),    row.text(5), row.text(6), row.text(7)};
}
} // namespace

OwnerAction record_owner_action(Database& db, OwnerAction action) {
    Transaction transaction(db);
    Statement last(db.handle(), "SELECT seq, hash FROM owner_actions ORDER BY seq DESC LIMIT 1");
    action.seq = 1;
    action.prev_hash = genesis_hash;
    if (last.step()) {
        action.seq = last.integer(0) + 1;
        action.prev_hash = last.text(1);
    }
    action.hash = hash_of(action);
    Statement insert(db.handle(), fmt::format("INSERT INTO owner_actions ({}) VALUES "
                                              "(?, ?, ?, ?, ?, ?, ?, ?)",
                                              columns));
    insert.bind(1, action.seq)
        .bind(2, std::string_view(action.time))
        .bind(3, std::string_view(action.action))
        .bind(4, std::string_view(action.agent))
        .bind(5, std::string_view(action.detail))
        .bind(6, std::string_view(action.origin))
        .bind(7, std::string_view(action.prev_hash))
        .bind(8, std::string_view(action.hash))
        .run();
    transaction.commit();
    return action;
}

std::vector<OwnerAction> read_owner_actions(Database& db, int64_t count) {
    Statement rows(db.handle(),
                   fmt::format("SELECT {} FROM (SELECT * FROM owner_actions ORDER BY seq DESC "
                               "LIMIT ?) ORDER BY seq",
                               columns));
    rows.bind(1, count);
    std::vector<OwnerAction> out;
    while (rows.step()) {
        out.push_back(read_row(rows));
    }
    return out;
}

AuditResult verify_owner_actions(Database& db) {
    AuditResult result;
    Statement rows(db.handle(),
                   fmt::format("SELECT {} FROM owner_actions ORDER BY rowid", columns));
    std::string expected_prev = genesis_hash;
    int64_t expected_seq = 1;
    while (rows.step()) {
        auto action = read_row(rows);
        ++result.records;
        auto problem = chain_link_problem("action", action.seq, expected_seq, action.prev_hash,
                                          expected_prev, hash_of(action) == action.hash);
        if (!problem.empty()) {
            result.ok = false;
            result.first_bad = action.seq;
            result.problem = fmt::format("owner action {} ({} {}): {}", action.seq, action.action,
                                         action.agent, problem);
            return result;
        }
        expected_prev = action.hash;
        ++expected_seq;
    }
    return result;
}

} // namespace aimo::governance
