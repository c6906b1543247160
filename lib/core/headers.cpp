#include "core/headers.hpp"

#include <algorithm>

namespace aimo::core {

const std::string* Headers::find(std::string_view name) const {
    for (const auto& [key, value] : m_entries) {
        if (ascii_iequals(key, name)) {
            return &value;
        }
    }
    return nullptr;
}

std::string Headers::value(std::string_view name) const {
    const auto* found = find(name);
    return found ? *found : std::string();
}

void Headers::append(Headers other) {
    if (m_entries.empty()) {
        m_entries = std::move(other.m_entries);
        return;
    }
    m_entries.insert(m_entries.end(), std::make_move_iterator(other.m_entries.begin()),
                     std::make_move_iterator(other.m_entries.end()));
}

void Headers::remove(std::string_view name) {
    m_entries.erase(
        std::remove_if(m_entries.begin(), m_entries.end(),
                       [&](const Entry& entry) { return ascii_iequals(entry.first, name); }),
        m_entries.end());
}

void Headers::set(std::string name, std::string value) {
    remove(name);
    add(std::move(name), std::move(value));
}

} // namespace aimo::core
