#include "core/context.hpp"

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

namespace aimo::core {

std::optional<std::string> Context::getenv(std::string_view name) const {
    if (!env) {
        return std::nullopt;
    }
    auto value = env(name);
    if (value && value->empty()) {
        return std::nullopt;
    }
    return value;
}

bool Context::color_err() const {
    return err_is_tty && !getenv("NO_COLOR");
}

void ignore_broken_pipes() {
    std::signal(SIGPIPE, SIG_IGN);
}

Context make_process_context() {
    Context ctx;
    ctx.env = [](std::string_view name) -> std::optional<std::string> {
        const char* value = std::getenv(std::string(name).c_str());
        if (value == nullptr) {
            return std::nullopt;
        }
        return std::string(value);
    };
    ctx.now = [] { return std::chrono::system_clock::now(); };
    ctx.out = &std::cout;
    ctx.in = &std::cin;
    ctx.err = &std::cerr;
    ctx.out_is_tty = isatty(STDOUT_FILENO) == 1;
    ctx.err_is_tty = isatty(STDERR_FILENO) == 1;
    return ctx;
}

} // namespace aimo::core
