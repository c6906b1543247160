#pragma once

#include "governance/governor.hpp"

#include <optional>
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

/// The HTTP status a decision leads to: 200 for an admission, else the denial's.
inline int status_of(const std::variant<governance::Admission, governance::Denial>& decision) {
    auto* denial = std::get_if<governance::Denial>(&decision);
    return denial ? denial->status : 200;
}

} // namespace aimo::test
