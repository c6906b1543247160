#include "upstream/router_client.hpp"

#include "core/error.hpp"
#include "crypto/keypair.hpp"

namespace aimo::upstream {

std::unique_ptr<RouterClient> make_router_client(const core::Context& ctx,
                                                 const RouterSettings& settings,
                                                 std::vector<std::string>& warnings) {
    auto loaded = crypto::load_keypair(settings.keypair);
    warnings.insert(warnings.end(), loaded.warnings.begin(), loaded.warnings.end());
    crypto::SiwxSigner signer(std::move(loaded.keypair), settings.chain_id, ctx.now,
                              std::chrono::minutes(5), settings.signature_reuse);
    return std::make_unique<RouterClient>(settings, std::move(signer));
}

} // namespace aimo::upstream
