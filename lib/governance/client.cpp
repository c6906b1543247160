#include "governance/client.hpp"

#include <algorithm>
#include <cctype>

namespace aimo::governance {

namespace {
bool contains(std::string_view text, std::string_view word) {
    return std::search(text.begin(), text.end(), word.begin(), word.end(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) == b;
           }) != text.end();
}
} // namespace

std::string_view client_of(std::string_view user_agent) {
    // Lower-case patterns, most specific first.
    static constexpr std::pair<std::string_view, std::string_view> known[] = {
        {"openclaw", "openclaw"},
        {"claude-cli", "claude-code"},
        {"claude-code", "claude-code"},
        {"codex", "codex"},
        {"aimo/", "aimo"},
        {"openai/", "openai-sdk"},
        {"anthropic/", "anthropic-sdk"},
        {"curl/", "curl"},
        {"python-requests", "python-requests"},
        {"node", "node"},
        {"undici", "node"},
    };
    for (const auto& [pattern, name] : known) {
        if (contains(user_agent, pattern)) {
            return name;
        }
    }
    return "other";
}

} // namespace aimo::governance
