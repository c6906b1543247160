#include "cli.hpp"
#include "core/context.hpp"

int main(int argc, char** argv) {
    aimo::core::ignore_broken_pipes();
    auto ctx = aimo::core::make_process_context();
    return aimo::commands::run_cli(ctx, std::vector<std::string>(argv + 1, argv + argc));
}
