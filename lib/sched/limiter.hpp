#pragma once

#include "core/headers.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>

namespace aimo::sched {

using Clock = std::chrono::steady_clock;

/// An upstream account's limits: a provider's, or one model's at a provider. Unset: no limit.
struct Limits {
    std::optional<int> max_in_flight; ///< requests at once
    std::optional<int64_t> rpm;       ///< requests started per window (a minute)
    std::optional<int64_t> tpm;       ///< tokens (prompt + completion) per window

    bool any() const { return max_in_flight || rpm || tpm; }
};

/// Amounts started within a sliding window, oldest first: what an upstream that counts per
/// minute has seen.
class Window {
public:
    /// Forgets what started before `now - window`.
    void expire(Clock::time_point now, Clock::duration window);
    /// Adds `amount` started at `now`; the id is for adjust().
    uint64_t add(Clock::time_point now, int64_t amount);
    /// Replaces the amount of entry `id` (if still in the window) with `amount`.
    void adjust(uint64_t id, int64_t amount);
    /// Moves entry `id` to `now` (the newest); returns its new id (0 when it is gone).
    uint64_t restamp(uint64_t id, Clock::time_point now);
    int64_t total() const { return m_total; }
    size_t count() const { return m_entries.size(); }
    /// When the oldest entry leaves the window; nullopt when empty.
    std::optional<Clock::time_point> next_expiry(Clock::duration window) const;

private:
    struct Entry {
        Clock::time_point at;
        int64_t amount;
        uint64_t id;
    };
    std::deque<Entry>::iterator find(uint64_t id);
    std::deque<Entry> m_entries;
    int64_t m_total = 0;
    uint64_t m_next_id = 1;
};

/// A duration as rate-limit headers write it: "20ms", "1s", "6m0s", "1h2m3.5s", or a bare
/// number of seconds. nullopt when it is none of these.
std::optional<Clock::duration> parse_reset(std::string_view text);

/// Where one started request is in a limiter's windows.
struct Stamp {
    uint64_t request = 0;
    uint64_t tokens = 0;
};

/// One account's state: its limits, what is out now and what started in the window, and what
/// the upstream said — a back-off (Retry-After) and the requests and tokens it has left
/// (x-ratelimit-remaining-*), which hold requests before the upstream would refuse them.
/// Not thread-safe: the scheduler's lock guards it.
class Limiter {
public:
    Limits limits;

    /// True when a request of `tokens` may start at `now`. Otherwise, when only time will
    /// change that, `wake` is lowered to that time (a release may change it sooner).
    bool admits(int64_t tokens, Clock::time_point now, Clock::duration window,
                Clock::time_point& wake);
    /// Counts a request that starts now.
    Stamp start(int64_t tokens, Clock::time_point now);
    /// The request is sent: the upstream counts it from about now, so its window entries
    /// count from now too (an upstream that counts later than aimo would refuse the request
    /// a window's end lets out).
    void sent(Stamp& stamp, Clock::time_point now);
    /// A request that started here is over.
    void finish() { --m_in_flight; }
    /// A started request really used `tokens` (its estimate is replaced).
    void used(const Stamp& stamp, int64_t tokens) { m_tokens.adjust(stamp.tokens, tokens); }
    /// Forgets what started before the window.
    void expire(Clock::time_point now, Clock::duration window) {
        m_requests.expire(now, window);
        m_tokens.expire(now, window);
    }
    /// No request starts before `until` (a longer hold already in force stays).
    void hold(Clock::time_point until);
    /// Takes x-ratelimit-remaining-requests/-tokens with their x-ratelimit-reset-* from an
    /// answer.
    void observe(const core::Headers& headers, Clock::time_point now);

    size_t in_flight() const { return m_in_flight; }
    Clock::time_point held_until() const { return m_held_until; }
    size_t window_requests() const { return m_requests.count(); }
    int64_t window_tokens() const { return m_tokens.total(); }

private:
    size_t m_in_flight = 0;
    Window m_requests;
    Window m_tokens;
    Clock::time_point m_held_until{};
    // What the upstream said is left until its reset; past the reset nothing is known.
    int64_t m_requests_left = 0;
    Clock::time_point m_requests_reset{};
    int64_t m_tokens_left = 0;
    Clock::time_point m_tokens_reset{};
};

} // namespace aimo::sched
