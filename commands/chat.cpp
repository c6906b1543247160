#include "upstream/chat.hpp"

#include "core/error.hpp"
#include "registry.hpp"
#include "serve.hpp"
#include "upstream/router_client.hpp"

#include <istream>
#include <nlohmann/json.hpp>
#include <ostream>

namespace aimo::commands {

namespace {
struct ChatFlags {
    ServeFlags proxy; ///< its settings serve the one-shot chat too
    bool serve = false;
    std::string model;
    std::optional<std::string> message;
    std::optional<std::string> system;
};

std::string ask(core::Context& ctx, const upstream::AimoRouter& router, const std::string& model,
                const nlohmann::json& messages) {
    std::string answer = upstream::stream_chat(router, model, messages, [&](std::string_view d) {
        ctx.out->write(d.data(), static_cast<std::streamsize>(d.size()));
        ctx.out->flush();
    });
    *ctx.out << "\n";
    ctx.out->flush();
    return answer;
}

int run_chat(core::Context& ctx, const ChatFlags& flags) {
    if (flags.serve) {
        return run_serve(ctx, flags.proxy);
    }
    if (flags.model.empty()) {
        throw core::Error(core::ErrorKind::usage, "--model is required to chat",
                          "pick one from 'aimo list-models', or use 'aimo chat --serve'");
    }
    auto client = connect_router(ctx, flags.proxy.settings);
    auto messages = nlohmann::json::array();
    if (flags.system) {
        messages.push_back({{"role", "system"}, {"content", *flags.system}});
    }
    if (flags.message) {
        messages.push_back({{"role", "user"}, {"content", *flags.message}});
        ask(ctx, client->router, flags.model, messages);
        return 0;
    }
    *ctx.err << "Chatting with " << flags.model << ". Empty line or /exit ends, Ctrl-D too.\n";
    std::string line;
    for (;;) {
        *ctx.err << "> ";
        ctx.err->flush();
        if (!std::getline(*ctx.in, line) || line == "/exit" || line.empty()) {
            break;
        }
        messages.push_back({{"role", "user"}, {"content", line}});
        std::string answer = ask(ctx, client->router, flags.model, messages);
        messages.push_back({{"role", "assistant"}, {"content", answer}});
    }
    return 0;
}
} // namespace

CommandSpec register_chat(CLI::App& root) {
    auto flags = std::make_shared<ChatFlags>();
    auto* app = root.add_subcommand(
        "chat", "Chat with a model, or run the proxy with --serve (what agents connect to)");
    app->add_flag("--serve", flags->serve,
                  "Run the local OpenAI-compatible proxy on http://127.0.0.1:8080/v1");
    app->add_option("-m,--model", flags->model, "Model id (see 'aimo list-models')");
    app->add_option("--message", flags->message, "Send one message and print the answer");
    app->add_option("--system", flags->system, "System prompt");
    add_serve_flags(*app, flags->proxy);
    return {app, [flags](core::Context& ctx) { return run_chat(ctx, *flags); }};
}

} // namespace aimo::commands
