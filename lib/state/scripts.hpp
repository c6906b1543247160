#pragma once

#include "state/client.hpp"

namespace aimo::state::scripts {

/// Check-and-reserve for one request of one agent. KEYS: agents, holds, requests, tokens,
/// tokens_total, spent. ARGV: name, reservation, prompt USD, completion tokens, USD per million
/// completion tokens, "1" when the completion is paid for, lease ms, window ms. Answers
/// {"ok", reserved USD or "", completion cap or -1, requests in window or -1, ms until one
/// leaves, tokens in window or -1, ms until one leaves, rpm or -1, tpm or -1}, or a refusal:
/// {"gone"}, {"revoked", at}, {"rpm", ms, rpm}, {"tpm", used, ms, tpm}, {"spent", USD, budget},
/// {"short", left, held, budget}. The limits are the server's, read in the same step.
extern const Script admit;
/// Replaces a reservation with the real cost, once per reservation however often it is sent.
/// KEYS: holds, spent, tokens, tokens_total, done. ARGV: reservation, cost USD, tokens, window
/// ms. Answers 1, or 0 when it had been settled already.
extern const Script settle;
/// Moves the expiry of reservations still held to now + lease. KEYS: holds. ARGV: lease ms,
/// reservations…
extern const Script renew;

} // namespace aimo::state::scripts
