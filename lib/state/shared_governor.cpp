#include "state/shared_governor.hpp"

#include "core/error.hpp"
#include "core/headers.hpp"
#include "state/scripts.hpp"
#include "state/shared_agents.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace aimo::state {

using governance::Admission;
using governance::Agent;
using governance::Caller;
using governance::Denial;

namespace {
constexpr std::chrono::milliseconds window{60'000};
// How long a settlement waits for others to go with it: spending shows that much later, and
// the state server runs one script for several requests.
constexpr std::chrono::milliseconds settle_linger{2};
// How long a ticket may be used after it was asked for: under a second, so a revocation that
// somehow went unheard still applies within one.
constexpr std::chrono::milliseconds ticket_ttl{500};

long long reset_seconds(long long ms) {
    return core::whole_seconds(std::chrono::milliseconds(ms));
}

// Element `index` of an array reply (empty or 0 when there is none).
const std::string& text(const RedisReply& reply, size_t index) {
    static const std::string none;
    return index < reply.elements.size() ? reply.elements[index].text : none;
}

long long integer(const RedisReply& reply, size_t index) {
    return index < reply.elements.size() ? reply.elements[index].integer : 0;
}

// A USD amount the scripts send as text.
double usd(const RedisReply& reply, size_t index) {
    try {
        return std::stod(text(reply, index));
    } catch (const std::exception&) {
        return 0;
    }
}

void add_rate_limits(governance::Admission& admission, const RedisReply& reply, size_t at,
                     long long taken) {
    if (auto rpm = integer(reply, at + 4); rpm >= 0) {
        governance::add_rate_headers(admission.headers, "requests", rpm,
                                     rpm - integer(reply, at) - taken - 1,
                                     reset_seconds(integer(reply, at + 1)));
    }
    if (auto tpm = integer(reply, at + 5); tpm >= 0) {
        governance::add_rate_headers(admission.headers, "tokens", tpm, tpm - integer(reply, at + 2),
                                     reset_seconds(integer(reply, at + 3)));
    }
}
} // namespace

SharedGovernor::SharedGovernor(StateClient& client, bool require_auth,
                               std::chrono::milliseconds recheck, std::chrono::milliseconds lease,
                               bool prefetch)
    : m_client(client), m_require_auth(require_auth), m_recheck(recheck), m_lease(lease),
      m_instance(random_id()), m_tickets(std::min(ticket_ttl, lease / 2)),
      m_keeper(client, lease, settle_linger, [this] {
          m_tickets.drop_expired(Clock::now());
          give_back();
      }) {
    m_client.check();
    {
        std::lock_guard lock(m_mutex);
        refresh(true);
    }
    if (prefetch) {
        m_watcher = std::make_unique<ChangeWatcher>(m_client.address(), [this] {
            m_tickets.drop_all();
            give_back();
            std::lock_guard lock(m_mutex);
            m_checked_at = {}; // the next request reads the agents again
        });
    }
}

SharedGovernor::~SharedGovernor() {
    m_stopping = true;
    if (m_watcher) {
        m_watcher->stop(); // no more news: the keeper may go without any coming
    }
    m_tickets.drop_all();
    give_back(); // the keeper, going next, runs what is queued once more
}

void SharedGovernor::refresh(bool force) {
    auto now = Clock::now();
    if (!force && now - m_checked_at < m_recheck) {
        return;
    }
    m_checked_at = now;
    SharedAgents agents(m_client);
    std::vector<Agent> list;
    try {
        auto version = agents.version();
        if (version == m_version) {
            return;
        }
        list = agents.list();
        m_version = version;
    } catch (const core::Error&) {
        if (m_version == "?") {
            throw; // at start: no agents known yet, so nothing to go on
        }
        return; // the cache stands; admissions will say the server is gone
    }
    m_agents.replace(std::move(list));
}

bool SharedGovernor::auth_required() {
    std::lock_guard lock(m_mutex);
    refresh(false);
    return m_require_auth || !m_agents.empty();
}

std::variant<Caller, Denial> SharedGovernor::authenticate(std::string_view authorization) {
    std::lock_guard lock(m_mutex);
    return m_agents.authenticate(authorization, m_require_auth,
                                 [this](bool force) { refresh(force); });
}

std::variant<const Agent*, Denial> SharedGovernor::find_caller(const Caller& caller) {
    return m_agents.find(caller, [this](bool force) { refresh(force); });
}

bool SharedGovernor::allows(const Caller& caller, std::string_view model) {
    std::lock_guard lock(m_mutex);
    auto who = find_caller(caller);
    auto* agent = std::get_if<const Agent*>(&who);
    return agent != nullptr && (*agent == nullptr || (*agent)->allows(model));
}

std::optional<Denial> SharedGovernor::precheck(const Caller& caller, std::string_view model,
                                               Clock::time_point) {
    std::lock_guard lock(m_mutex);
    auto who = find_caller(caller);
    if (auto* denial = std::get_if<Denial>(&who)) {
        return std::move(*denial);
    }
    const Agent* agent = std::get<const Agent*>(who);
    if (agent != nullptr && !agent->allows(model)) {
        return governance::denials::model_not_allowed(*agent, model);
    }
    return std::nullopt;
}

Denial SharedGovernor::unavailable(const core::Error& error) const {
    return Denial{503,
                  "state_unavailable",
                  fmt::format("{}: aimo cannot check budgets and rate limits without it, so the "
                              "request was not sent; retry when it is back",
                              error.what()),
                  {{"Retry-After", "1"}},
                  std::nullopt};
}

std::variant<Admission, Denial> SharedGovernor::admit(const Caller& caller, std::string_view model,
                                                      const governance::Estimate& estimate,
                                                      Clock::time_point now) {
    return admit_while(caller, model, estimate, now, {});
}

std::variant<Admission, Denial>
SharedGovernor::admit_while(const Caller& caller, std::string_view model,
                            const governance::Estimate& estimate, Clock::time_point,
                            const std::function<void()>& meanwhile) {
    std::optional<Agent> agent;
    {
        std::lock_guard lock(m_mutex);
        auto who = find_caller(caller);
        if (auto* denial = std::get_if<Denial>(&who)) {
            return std::move(*denial);
        }
        if (std::get<const Agent*>(who) == nullptr) {
            return Admission{};
        }
        agent = *std::get<const Agent*>(who);
    }
    if (!agent->allows(model)) {
        return governance::denials::model_not_allowed(*agent, model);
    }
    double prompt_usd = static_cast<double>(estimate.prompt_tokens) * estimate.price_in / 1e6;
    int64_t completion =
        estimate.completes
            ? estimate.completion_tokens.value_or(governance::default_completion_reserve)
            : 0;
    bool pays_completion = estimate.completes && estimate.price_out > 0;
    // The most it may cost, which a ticket must hold: nothing without a budget.
    double worst = agent->limits.budget_usd
                       ? prompt_usd + static_cast<double>(completion) * estimate.price_out / 1e6
                       : 0;
    std::optional<uint64_t> generation;
    if (m_watcher && (generation = m_watcher->steady())) {
        if (auto ticket = m_tickets.take(agent->name, worst, *generation, Clock::now())) {
            Admission admission;
            admission.agent = agent->name;
            admission.budgeted = ticket->budgeted;
            admission.reserved_usd = ticket->amount_usd;
            admission.headers = std::move(ticket->headers);
            admission.reservation = std::move(ticket->id);
            if (admission.budgeted) {
                m_keeper.hold(AgentKeys(agent->name).holds, admission.reservation);
            }
            refill(agent->name, worst);
            return admission;
        }
    }
    Admission admission;
    admission.agent = agent->name;
    admission.reservation = fmt::format("{}:{}", m_instance, ++m_sequence);
    AgentKeys keys(agent->name);
    RedisReply reply;
    try {
        reply = m_client.run(
            scripts::admit,
            {key("agents"), keys.holds, keys.requests, keys.tokens, keys.tokens_total, keys.spent},
            {agent->name, std::to_string(m_lease.count()), std::to_string(window.count()),
             admission.reservation, fmt::format("{:.17g}", prompt_usd), std::to_string(completion),
             fmt::format("{:.17g}", estimate.price_out), pays_completion ? "1" : "0"},
            meanwhile);
    } catch (const core::Error& e) {
        auto denial = unavailable(e);
        denial.agent = agent->name;
        return denial;
    }
    const auto& verdict = text(reply, 0);
    const auto& name = agent->name;
    if (verdict == "gone") {
        return governance::denials::no_longer_exists(name);
    }
    if (verdict == "revoked") {
        return governance::denials::revoked(name, text(reply, 1));
    }
    if (verdict == "rpm") {
        return governance::denials::rpm_reached(name, integer(reply, 2),
                                                reset_seconds(integer(reply, 1)));
    }
    if (verdict == "tpm") {
        return governance::denials::tpm_reached(name, integer(reply, 3), integer(reply, 1),
                                                reset_seconds(integer(reply, 2)));
    }
    if (verdict == "spent") {
        return governance::denials::budget_spent(name, usd(reply, 1), usd(reply, 2));
    }
    if (verdict == "short") {
        return governance::denials::budget_short(name, usd(reply, 1), usd(reply, 3), usd(reply, 2),
                                                 prompt_usd, pays_completion);
    }
    if (verdict != "ok" || reply.elements.size() < 9) {
        return unavailable(core::Error(core::ErrorKind::upstream_protocol,
                                       "the state server answered an admission aimo cannot read"));
    }
    if (!text(reply, 1).empty()) {
        admission.budgeted = true;
        admission.reserved_usd = usd(reply, 1);
        m_keeper.hold(AgentKeys(name).holds, admission.reservation);
    }
    if (integer(reply, 2) >= 0) {
        admission.max_tokens = integer(reply, 2);
    }
    add_rate_limits(admission, reply, 3, 0);
    if (generation) {
        refill(name, worst);
    }
    return admission;
}

void SharedGovernor::refill(const std::string& agent, double worst_usd) {
    int count = m_tickets.wanted(agent, Clock::now());
    if (count > 0) {
        m_keeper.post([this, agent, amount = 2 * worst_usd, count] {
            make_tickets(agent, amount, count);
            return true; // never tried again: by then the request that wanted them is long done
        });
    }
}

void SharedGovernor::make_tickets(const std::string& agent, double amount_usd, int count) {
    std::vector<Ticket> made;
    auto generation = m_watcher && !m_stopping ? m_watcher->steady() : std::nullopt;
    if (!generation) {
        m_tickets.refilled(agent, {}, 0, Clock::now());
        return;
    }
    auto [held_usd, held] = m_tickets.unused(agent);
    AgentKeys keys(agent);
    auto asked_at = Clock::now();
    try {
        auto prefix = fmt::format("{}:t{}:", m_instance, ++m_sequence);
        auto reply = m_client.run(
            scripts::prefetch,
            {key("agents"), keys.holds, keys.requests, keys.tokens, keys.tokens_total, keys.spent},
            {agent, std::to_string(m_lease.count()), std::to_string(window.count()), prefix,
             fmt::format("{:.17g}", amount_usd), std::to_string(count),
             fmt::format("{:.17g}", held_usd), std::to_string(held),
             std::to_string(m_tickets.ttl().count())});
        if (text(reply, 0) == "ok" && reply.elements.size() >= 9) {
            bool budgeted = !text(reply, 2).empty();
            for (long long i = 0; i < integer(reply, 1); ++i) {
                Admission limits;
                add_rate_limits(limits, reply, 3, i);
                made.push_back(Ticket{prefix + std::to_string(i + 1), budgeted ? usd(reply, 2) : 0,
                                      budgeted, *generation, asked_at + m_tickets.ttl(),
                                      std::move(limits.headers)});
            }
        }
    } catch (const core::Error&) {
        // Without the server there are no tickets; the next request says why.
    }
    m_tickets.refilled(agent, std::move(made), m_watcher->generation(), Clock::now());
}

void SharedGovernor::give_back() {
    auto dropped = m_tickets.take_dropped();
    if (dropped.empty()) {
        return;
    }
    m_keeper.post([this, dropped = std::move(dropped)] {
        try {
            for (const auto& [agent, tickets] : dropped) {
                AgentKeys keys(agent);
                m_client.run(scripts::forget, {keys.holds, keys.requests}, tickets);
            }
            return true;
        } catch (const core::Error&) {
            return false; // again later: giving back twice is harmless
        }
    });
}

bool SharedGovernor::send(const std::vector<Settlement>& batch) {
    std::vector<std::string> keys;
    std::vector<std::string> args = {std::to_string(window.count())};
    for (const auto& settlement : batch) {
        AgentKeys agent(settlement.agent);
        keys.insert(keys.end(), {agent.holds, agent.spent, agent.tokens, agent.tokens_total});
        args.insert(args.end(),
                    {settlement.reservation, fmt::format("{:.17g}", settlement.cost_usd),
                     std::to_string(settlement.tokens), std::to_string(settlement.number)});
    }
    keys.push_back(key("settled:" + m_instance));
    try {
        m_client.run(scripts::settle, keys, args);
        return true;
    } catch (const core::Error&) {
        return false;
    }
}

bool SharedGovernor::send_settlements() {
    constexpr size_t most = 64; // per script: a long one would hold up everyone's admissions
    for (;;) {
        std::vector<Settlement> batch;
        {
            std::lock_guard lock(m_mutex);
            auto count = std::min(most, m_unsettled.size());
            batch.assign(m_unsettled.begin(), m_unsettled.begin() + count);
        }
        if (batch.empty()) {
            return true;
        }
        if (!send(batch)) {
            return false; // tried again later, from the same one on
        }
        for (const auto& settlement : batch) {
            m_keeper.drop(AgentKeys(settlement.agent).holds, settlement.reservation);
        }
        std::lock_guard lock(m_mutex);
        m_unsettled.erase(m_unsettled.begin(), m_unsettled.begin() + batch.size());
        if (m_unsettled.empty()) {
            return true;
        }
    }
}

void SharedGovernor::settle(const Admission& admission, int64_t tokens, double cost_usd,
                            Clock::time_point) {
    if (!admission.agent) {
        return;
    }
    // Work recorded without an admission (the cache's embedding call) has no name yet.
    Settlement settlement{*admission.agent,
                          admission.reservation.empty()
                              ? fmt::format("{}:{}", m_instance, ++m_sequence)
                              : admission.reservation,
                          cost_usd, tokens};
    // The keeper sends it, so the reply does not wait for a second round trip, together with
    // those that finish meanwhile. The hold is renewed until the settlement lands, so no
    // admission meanwhile sees more budget than there is. While the server is gone the
    // settlement waits (spent is spent); the hold may expire meanwhile, and the server counts
    // a settlement once however often it arrives.
    bool first = false;
    {
        std::lock_guard lock(m_mutex);
        first = m_unsettled.empty();
        settlement.number = ++m_settlements;
        m_unsettled.push_back(std::move(settlement));
    }
    if (first) {
        m_keeper.post([this] { return send_settlements(); });
    }
}

size_t SharedGovernor::unsettled() {
    std::lock_guard lock(m_mutex);
    return m_unsettled.size();
}

bool SharedGovernor::flush(std::chrono::milliseconds timeout) {
    return m_keeper.flush(timeout);
}

} // namespace aimo::state
