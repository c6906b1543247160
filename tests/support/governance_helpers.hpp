#pragma once

#include "governance/governor.hpp"

#include <optional>
#include <string>
#include <variant>

namespace aimo::test {

/// A request of `completion` tokens at $1 per completion token, prompts free: budgets in
/// whole tokens.
inline governance::Estimate tokens(std::optional<int64_t> completion) {
    governance::Estimate estimate;
    estimate.completion_tokens = completion;
    estimate.price_out = 1e6;
    return estimate;
}

/// The caller `token` names; throws std::bad_variant_access when `governor` refuses it.
inline governance::Caller caller_of(governance::Governor& governor, const std::string& token) {
    return std::get<governance::Caller>(governor.authenticate("Bearer " + token));
}

/// The HTTP status a decision leads to: 200 for an admission, else the denial's.
inline int status_of(const std::variant<governance::Admission, governance::Denial>& decision) {
    auto* denial = std::get_if<governance::Denial>(&decision);
    return denial ? denial->status : 200;
}

} // namespace aimo::test
