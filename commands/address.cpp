#include "crypto/keypair.hpp"
#include "registry.hpp"

#include <ostream>

namespace aimo::commands {

namespace {
struct AddressFlags {
    SettingFlags settings;
};

int run_address(core::Context& ctx, const AddressFlags& flags) {
    auto loaded = crypto::load_keypair(load_config(ctx, flags.settings).router.keypair);
    for (const auto& warning : loaded.warnings) {
        print_warning(ctx, warning);
    }
    *ctx.out << loaded.keypair.address() << "\n";
    return 0;
}
} // namespace

CommandSpec register_address(CLI::App& root) {
    auto flags = std::make_shared<AddressFlags>();
    auto* app = root.add_subcommand("address", "Print your wallet address (base58 public key)");
    add_setting_flag(*app, flags->settings, "keypair");
    return {app, [flags](core::Context& ctx) { return run_address(ctx, *flags); }};
}

} // namespace aimo::commands
