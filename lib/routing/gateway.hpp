#pragma once

#include "routing/table.hpp"

#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace aimo::routing {

/// The routing table in use. Each request takes a snapshot with current() and keeps it to the
/// end, so a reload changes only requests that start afterwards.
class Gateway {
public:
    /// Builds a table from the current config; throws core::Error when it is invalid.
    using Factory = std::function<std::shared_ptr<const Table>()>;

    /// Builds the first table now (its errors are start-up errors).
    explicit Gateway(Factory factory) : m_factory(std::move(factory)), m_table(m_factory()) {}

    std::shared_ptr<const Table> current() const {
        std::lock_guard lock(m_mutex);
        return m_table;
    }

    /// Builds a new table; on success it serves new requests, on failure the old one keeps
    /// serving. Returns the error message, empty on success. Thread-safe.
    std::string reload();

private:
    Factory m_factory;
    std::mutex m_reload_mutex; // one reload at a time
    mutable std::mutex m_mutex;
    std::shared_ptr<const Table> m_table;
};

} // namespace aimo::routing
