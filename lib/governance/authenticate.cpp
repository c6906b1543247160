// The gate's first stage: who is asking, and what refuses a request at any price. Its second,
// admission, is in gate.cpp.
#include "governance/gate.hpp"

namespace aimo::governance {

std::variant<Caller, Denial> Gate::identify(std::string_view authorization) {
    if (m_governor == nullptr) {
        return Caller{};
    }
    auto who = m_governor->authenticate(authorization);
    if (auto* denial = std::get_if<Denial>(&who)) {
        refuse(denial->agent, denial->status, denial->code);
    }
    return who;
}

std::variant<Caller, Denial> Gate::authenticate(std::string_view authorization,
                                                std::string_view model) {
    auto who = identify(authorization);
    if (m_governor == nullptr || std::holds_alternative<Denial>(who)) {
        return who;
    }
    auto& caller = std::get<Caller>(who);
    if (auto denial = m_governor->precheck(caller, model, std::chrono::steady_clock::now())) {
        refuse(denial->agent, denial->status, denial->code);
        return std::move(*denial);
    }
    return who;
}

bool Gate::allows(const Caller& caller, std::string_view model) {
    return m_governor == nullptr || m_governor->allows(caller, model);
}

} // namespace aimo::governance
