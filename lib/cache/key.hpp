#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aimo::cache {

/// What a chat completion request is, for the cache: whether it may be answered from the
/// store at all, its exact key, and for the semantic cache the key of its context (everything
/// but the last user message) and that message's text.
struct RequestKey {
    bool cacheable = false;
    std::string why_not;    ///< when not cacheable: a few words for logs and tests
    std::string exact;      ///< hex SHA-256 of namespace, route and the canonical body
    std::string context;    ///< the same with the last user message left out; empty: none
    std::string last_user;  ///< that message's text (semantic lookups embed it)
    bool length_ok = false; ///< the body sets its own completion limit: "length" is its answer
};

/// The key of `body` (a JSON object, already known to be valid) sent to `route` (the resolved
/// targets, "provider/model,…") in namespace `space` (an agent, or the shared one). The body
/// counts in a canonical form: member order and whitespace do not matter, and `stream`,
/// `stream_options` and `user` are left out. Without `sampled`, a request that samples
/// (temperature absent or above 0) is not cacheable: its sender may want a different answer.
/// A request for several choices (`n` > 1) or with `logprobs` is not cacheable either.
RequestKey request_key(std::string_view body, std::string_view route, std::string_view space,
                       bool sampled);

} // namespace aimo::cache
