#pragma once

#include "state/client.hpp"

namespace aimo::state::scripts {

/// Check-and-reserve for one request of one agent. KEYS: agents, holds, requests, tokens,
/// tokens_total, spent. ARGV: name, lease ms, window ms, reservation, prompt USD, completion
/// tokens, USD per million completion tokens, "1" when the completion is paid for. Answers
/// {"ok", reserved USD or "", completion cap or -1, requests in window or -1, ms until one
/// leaves, tokens in window or -1, ms until one leaves, rpm or -1, tpm or -1}, or a refusal:
/// {"gone"}, {"revoked", at}, {"rpm", ms, rpm}, {"tpm", used, ms, tpm}, {"spent", USD, budget},
/// {"short", left, held, budget}. The limits are the server's, read in the same step.
extern const Script admit;
/// Admits up to n requests ahead of time (tickets), each holding `amount` USD (when the agent
/// has a budget) and counted in the request window, but only while the agent is in the lower
/// half of every limit, and only so many that this instance's tickets hold at most 1% of its
/// budget and rpm. KEYS: as admit. ARGV: name, lease ms, window ms, reservation prefix (ticket
/// i is prefix..i), amount USD, n, USD and count of this instance's unused tickets, ms a ticket
/// may be used for. Answers {"ok", count, amount or "", then as admit from requests on}, or
/// {"none"} (nothing made) or admit's {"gone"} and {"revoked", at}.
extern const Script prefetch;
/// Gives unused tickets back. KEYS: holds, requests. ARGV: the tickets.
extern const Script forget;
/// Replaces reservations with their real cost, each once however often it is sent: one
/// instance's settlements are numbered 1, 2, … in the order it sends them, and its mark keeps
/// the highest counted (one key per instance, not one per request). KEYS: per settlement
/// holds, spent, tokens, tokens_total; then the instance's mark. ARGV: window ms, then per
/// settlement reservation, cost USD, tokens, number. Answers how many had not been settled
/// before.
extern const Script settle;
/// Moves the expiry of reservations still held to now + lease. KEYS: holds. ARGV: lease ms,
/// reservations…
extern const Script renew;
/// Takes a place for one request in the shared counts of one or more upstream accounts (a
/// provider, and its model when that has limits of its own). KEYS: per account in_flight,
/// requests, tokens, tokens_total. ARGV: lease, lease ms, window ms, estimated tokens, then per
/// account max_in_flight, rpm, tpm (-1: none). Answers {"ok"}, or {"busy"} (in flight at the
/// limit), {"rpm", ms until a request leaves the window}, {"tpm", ms until tokens leave it};
/// a refusal changes nothing.
extern const Script acquire;
/// Gives a place back. KEYS: per account in_flight, tokens, tokens_total. ARGV: lease,
/// estimated tokens, used tokens (-1: unknown, the estimate stands).
extern const Script release;

} // namespace aimo::state::scripts
