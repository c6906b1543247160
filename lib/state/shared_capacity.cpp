#include "state/shared_capacity.hpp"

#include "core/error.hpp"
#include "state/scripts.hpp"

#include <fmt/format.h>

namespace aimo::state {

namespace {
// The accounts a request counts in: its provider, and its model there when that has limits of
// its own (as the local scheduler counts them).
struct Account {
    std::string prefix;
    const sched::Limits* limits;
};

std::vector<Account> accounts_of(const sched::Ask& ask) {
    std::vector<Account> out;
    out.push_back({key("cap:" + ask.provider + ":"), &ask.provider_limits});
    if (ask.model_limits.any()) {
        out.push_back(
            {key("cap:" + ask.provider + ":model:" + ask.model + ":"), &ask.model_limits});
    }
    return out;
}

template <typename Number> std::string limit(const std::optional<Number>& value) {
    return value ? std::to_string(*value) : "-1";
}

using std::chrono::milliseconds;
// How often a request refused by the shared counts asks again, when only another instance
// can change the answer.
constexpr milliseconds poll{20};

long long whole_ms(sched::Clock::duration duration) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}
} // namespace

SharedCapacity::SharedCapacity(StateClient& client, std::chrono::milliseconds lease)
    : m_client(client), m_lease(lease), m_instance(random_id()), m_keeper(client, lease) {}

std::optional<std::string> SharedCapacity::acquire(const sched::Ask& ask,
                                                   sched::Clock::duration window,
                                                   sched::Clock::time_point& retry_at) {
    auto lease = fmt::format("{}:{}", m_instance, ++m_sequence);
    std::vector<std::string> keys;
    std::vector<std::string> args = {lease, std::to_string(m_lease.count()),
                                     std::to_string(whole_ms(window)), std::to_string(ask.tokens)};
    auto accounts = accounts_of(ask);
    for (const auto& account : accounts) {
        for (const char* name : {"in_flight", "requests", "tokens", "tokens_total"}) {
            keys.push_back(account.prefix + name);
        }
        args.push_back(limit(account.limits->max_in_flight));
        args.push_back(limit(account.limits->rpm));
        args.push_back(limit(account.limits->tpm));
    }
    auto reply = m_client.run(scripts::acquire, keys, args);
    const std::string verdict = reply.elements.empty() ? "" : reply.elements[0].text;
    auto now = sched::Clock::now();
    if (verdict == "ok") {
        for (const auto& account : accounts) {
            if (account.limits->max_in_flight) {
                m_keeper.hold(account.prefix + "in_flight", lease);
            }
        }
        return lease;
    }
    if (verdict == "rpm" && reply.elements.size() > 1) {
        // The server's clock said when; a little later, so the entry has surely left.
        retry_at = now + milliseconds(std::max<long long>(1, reply.elements[1].integer + 1));
    } else if (verdict == "tpm" && reply.elements.size() > 1) {
        // Sooner too when another instance's request turns out to have used less than it
        // estimated, which sends no signal here.
        retry_at =
            now +
            std::min(poll, milliseconds(std::max<long long>(1, reply.elements[1].integer + 1)));
    } else if (verdict == "busy") {
        // A place frees when another instance's request ends, which sends no signal here.
        retry_at = now + poll;
    } else {
        throw core::Error(core::ErrorKind::upstream_protocol,
                          fmt::format("the state server {} answered a capacity check aimo cannot "
                                      "read",
                                      m_client.address().display()));
    }
    return std::nullopt;
}

void SharedCapacity::release(const sched::Ask& ask, const std::string& lease, int64_t used) {
    std::vector<std::string> keys;
    std::vector<std::string> held;
    for (const auto& account : accounts_of(ask)) {
        for (const char* name : {"in_flight", "tokens", "tokens_total"}) {
            keys.push_back(account.prefix + name);
        }
        if (account.limits->max_in_flight) {
            held.push_back(account.prefix + "in_flight");
        }
    }
    // The reply does not wait for this; until it lands, the place stays held (and renewed).
    m_keeper.post([this, keys = std::move(keys), held = std::move(held), lease,
                   tokens = std::to_string(ask.tokens), used = std::to_string(used)] {
        try {
            m_client.run(scripts::release, keys, {lease, tokens, used});
        } catch (const core::Error&) {
            return false;
        }
        for (const auto& key : held) {
            m_keeper.drop(key, lease);
        }
        return true;
    });
}

} // namespace aimo::state
