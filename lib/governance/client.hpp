#pragma once

#include <string>
#include <string_view>

namespace aimo::governance {

/// Which client a User-Agent names, as the ledger records it: "openclaw", "claude-code",
/// "codex", "aimo", "openai-sdk", "anthropic-sdk", "curl", "python-requests", "node", or
/// "other" (also for none). Case does not matter; the first match in that order wins, so an
/// agent runtime that builds on an SDK is named, not the SDK.
std::string_view client_of(std::string_view user_agent);

} // namespace aimo::governance
