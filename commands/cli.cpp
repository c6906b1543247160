#include "cli.hpp"

#include "registry.hpp"

#include <algorithm>
#include <ostream>

namespace aimo::commands {

namespace {
struct Tree {
    std::unique_ptr<CLI::App> root;
    std::vector<CommandSpec> commands;
    CLI::App* help = nullptr;
    std::vector<std::string> help_topic;
    bool version = false;
};

Tree build_tree() {
    Tree tree;
    tree.root = std::make_unique<CLI::App>(
        "aimo: one local, signed, OpenAI-compatible door to hundreds of AI models", "aimo");
    auto& root = *tree.root;
    root.require_subcommand(0, 1);
    root.add_flag("--version", tree.version, "Print the version and exit");
    root.footer("Run 'aimo help <command>' for a command's options.");
    for (const auto& entry : command_registry()) {
        tree.commands.push_back(entry.register_fn(root));
    }
    tree.help = root.add_subcommand("help", "Show help for a command");
    tree.help->add_option("command", tree.help_topic, "The command (and subcommand)");
    return tree;
}

int show_help(core::Context& ctx, Tree& tree) {
    CLI::App* node = tree.root.get();
    std::string prefix; // "aimo connect" for `help connect openclaw`
    for (const auto& name : tree.help_topic) {
        prefix = node == tree.root.get() ? "aimo" : prefix + " " + node->get_name();
        CLI::App* next = nullptr;
        try {
            next = node->get_subcommand(name);
        } catch (const CLI::OptionNotFound&) {
        }
        if (next == nullptr || next == tree.help) {
            return report_error(ctx, core::Error(core::ErrorKind::usage,
                                                 "unknown command '" + name + "'",
                                                 "run 'aimo --help' to list the commands"));
        }
        node = next;
    }
    *ctx.out << node->help(prefix);
    return 0;
}

const CLI::App* deepest_parsed(const CLI::App* app) {
    for (const auto* sub : app->get_subcommands()) {
        return deepest_parsed(sub);
    }
    return app;
}
} // namespace

namespace {
void describe(const CLI::App& app, const std::string& path, std::vector<CommandDescription>& out) {
    CommandDescription node;
    node.path = path;
    for (const auto* option : app.get_options()) {
        for (const auto& name : option->get_lnames()) {
            node.long_options.push_back(name);
        }
    }
    auto subcommands = app.get_subcommands([](const CLI::App*) { return true; });
    for (const auto* sub : subcommands) {
        node.subcommands.push_back(sub->get_name());
    }
    out.push_back(node);
    for (const auto* sub : subcommands) {
        describe(*sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
    }
}
} // namespace

std::vector<CommandDescription> describe_cli() {
    Tree tree = build_tree();
    std::vector<CommandDescription> out;
    describe(*tree.root, "", out);
    return out;
}

int run_cli(core::Context& ctx, const std::vector<std::string>& args) {
    Tree tree = build_tree();
    std::vector<std::string> reversed(args.rbegin(), args.rend());
    try {
        tree.root->parse(reversed);
    } catch (const CLI::CallForHelp&) {
        *ctx.out << tree.root->help();
        return 0;
    } catch (const CLI::CallForAllHelp&) {
        *ctx.out << tree.root->help("", CLI::AppFormatMode::All);
        return 0;
    } catch (const CLI::ParseError& e) {
        const CLI::App* where = deepest_parsed(tree.root.get());
        std::string message = e.what();
        if (where == tree.root.get() && !args.empty() && !args[0].empty() && args[0][0] != '-' &&
            dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
            message = "unknown command '" + args[0] + "'";
        }
        std::string hint = where == tree.root.get()
                               ? "run 'aimo --help' to list the commands"
                               : "run 'aimo help " + where->get_name() + "' for its options";
        return report_error(ctx, core::Error(core::ErrorKind::usage, message, hint));
    }

    if (tree.version) {
        *ctx.out << "aimo " << AIMO_VERSION << "\n";
        return 0;
    }
    if (tree.help->parsed()) {
        return show_help(ctx, tree);
    }
    for (auto& command : tree.commands) {
        if (command.app->parsed()) {
            try {
                return command.run(ctx);
            } catch (const core::Error& e) {
                return report_error(ctx, e);
            } catch (const std::exception& e) {
                // A bug, not the user's input: still an error message, never an abort.
                return report_error(
                    ctx, core::Error(core::ErrorKind::io,
                                     std::string("internal error in aimo: ") + e.what(),
                                     "this is a bug; please report it with the command you ran"));
            }
        }
    }
    *ctx.out << tree.root->help();
    return 0;
}

} // namespace aimo::commands
