#include "core/json.hpp"
#include "core/paths.hpp"
#include "crypto/keypair.hpp"
#include "registry.hpp"

#include <nlohmann/json.hpp>
#include <ostream>

namespace aimo::commands {

namespace {
struct KeygenFlags {
    SettingFlags settings;
    bool force = false;
    bool json = false;
};

int run_keygen(core::Context& ctx, const KeygenFlags& flags) {
    std::filesystem::path path = load_config(ctx, flags.settings).router.keypair;
    auto keypair = crypto::Keypair::generate();
    crypto::save_keypair(path, keypair, flags.force);
    if (flags.json) {
        *ctx.out << core::json_text(
                        nlohmann::json{{"address", keypair.address()}, {"path", path.string()}})
                 << "\n";
    } else {
        *ctx.out << "address: " << keypair.address() << "\n"
                 << "path:    " << path.string() << "\n";
        *ctx.err << "Back this file up: the address is your identity on the AiMo network.\n"
                 << "Next: aimo chat --serve\n";
    }
    return 0;
}
} // namespace

CommandSpec register_keygen(CLI::App& root) {
    auto flags = std::make_shared<KeygenFlags>();
    auto* app = root.add_subcommand("keygen", "Create a new ed25519 keypair (your identity)");
    add_setting_flag(*app, flags->settings, "keypair");
    app->add_flag("--force", flags->force, "Replace an existing keypair (its address is lost)");
    app->add_flag("--json", flags->json, "Print {\"address\",\"path\"} as JSON");
    return {app, [flags](core::Context& ctx) { return run_keygen(ctx, *flags); }};
}

} // namespace aimo::commands
