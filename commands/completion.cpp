#include "registry.hpp"

#include <ostream>

namespace aimo::commands {

std::string_view completion_script(std::string_view shell); // generated from completions/

namespace {
int run_completion(core::Context& ctx, const std::string& shell) {
    auto script = completion_script(shell);
    ctx.out->write(script.data(), static_cast<std::streamsize>(script.size()));
    return 0;
}
} // namespace

CommandSpec register_completion(CLI::App& root) {
    auto shell = std::make_shared<std::string>();
    auto* app = root.add_subcommand("completion", "Print the shell completion script");
    app->add_option("shell", *shell, "bash, zsh or fish")
        ->required()
        ->check(CLI::IsMember({"bash", "zsh", "fish"}));
    app->footer("bash: source <(aimo completion bash)   zsh: source <(aimo completion zsh)\n"
                "fish: aimo completion fish | source");
    return {app, [shell](core::Context& ctx) { return run_completion(ctx, *shell); }};
}

} // namespace aimo::commands
