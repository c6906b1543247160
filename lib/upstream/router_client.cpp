#include "upstream/router_client.hpp"

#include "crypto/keypair.hpp"

namespace aimo::upstream {

RouterSettings router_settings(const core::Settings& settings) {
    RouterSettings out;
    const auto& url = settings.get("router_url");
    out.url = parse_url(url.value, "router URL (from " + url.origin + ")");
    out.keypair = settings.value("keypair");
    out.chain_id = settings.value("chain_id");
    out.timeouts.connect = std::chrono::seconds(settings.get_int("connect_timeout", 1, 3600));
    out.timeouts.read = std::chrono::seconds(settings.get_int("read_timeout", 1, 86400));
    out.signature_reuse =
        std::chrono::milliseconds(settings.get_int("signature_reuse_ms", 0, 60'000));
    return out;
}

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
