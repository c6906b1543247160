#pragma once

#include <random>
#include <string>
#include <string_view>

namespace aimo::test {

// `text` with one to three random single-byte edits (erase, insert or replace, the new bytes
// drawn from `alphabet`): near-misses of valid JSON for comparing a scanner with a reference.
inline std::string mutate(std::string text, std::mt19937& random, std::string_view alphabet) {
    int edits = 1 + static_cast<int>(random() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
        size_t at = random() % text.size();
        switch (random() % 3) {
        case 0:
            text.erase(at, 1);
            break;
        case 1:
            text.insert(at, 1, alphabet[random() % alphabet.size()]);
            break;
        default:
            text[at] = alphabet[random() % alphabet.size()];
        }
    }
    return text;
}

} // namespace aimo::test
