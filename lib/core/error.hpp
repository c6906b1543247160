#pragma once

#include <stdexcept>
#include <string>

namespace aimo::core {

/// What kind of failure an Error reports; the CLI maps it to an exit code and the server to an
/// HTTP status, so callers never need to parse messages.
enum class ErrorKind {
    usage,                ///< bad flag or argument value (exit 2)
    invalid_input,        ///< a file or value the user supplied is malformed (exit 1)
    not_found,            ///< something the user named does not exist
    already_exists,       ///< refusing to overwrite
    io,                   ///< the operating system refused a file or socket operation
    upstream_unreachable, ///< could not connect to an upstream
    upstream_timeout,     ///< an upstream did not answer in time
    upstream_protocol,    ///< an upstream answered something that is not valid HTTP/JSON
    upstream_status,      ///< an upstream answered with an error status
};

/// An error a user can act on: a one-line message saying what was wrong and a hint saying
/// what to do. Thrown by lib/ and rendered by the CLI as `aimo: error: …` / `hint: …`.
class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, std::string message, std::string hint = {})
        : std::runtime_error(std::move(message)), m_kind(kind), m_hint(std::move(hint)) {}

    /// The category, used to choose exit codes and HTTP statuses.
    ErrorKind kind() const { return m_kind; }
    /// What the user should do next; may be empty.
    const std::string& hint() const { return m_hint; }

private:
    ErrorKind m_kind;
    std::string m_hint;
};

} // namespace aimo::core
