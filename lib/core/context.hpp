#pragma once

#include <chrono>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>

namespace aimo::core {

/// Looks up an environment variable; nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
/// Wall-clock source; tests pass a fixed clock so signatures are reproducible.
using Clock = std::function<std::chrono::system_clock::time_point()>;

/// Every side effect a command may have goes through here, so tests can run a command against
/// temp directories, captured streams and a fixed clock without touching the real process.
struct Context {
    EnvLookup env;
    Clock now;
    std::ostream* out = nullptr; ///< data (what scripts consume)
    std::istream* in = nullptr;  ///< interactive input
    std::ostream* err = nullptr; ///< messages, warnings, progress
    bool out_is_tty = false;     ///< decides table vs. plain rendering and colour
    bool err_is_tty = false;

    /// Environment value or nullopt; empty values count as unset.
    std::optional<std::string> getenv(std::string_view name) const;
    /// True when colour may be used on stderr (a terminal and NO_COLOR unset).
    bool color_err() const;
};

/// A Context wired to the real process: environment, system clock, std streams.
Context make_process_context();

/// Makes a write to a connection the peer has closed an error (EPIPE) instead of a SIGPIPE
/// that kills the process: OpenSSL writes to sockets without MSG_NOSIGNAL. Process-wide, so
/// called once at start-up (app/main.cpp, the test runner).
void ignore_broken_pipes();

} // namespace aimo::core
