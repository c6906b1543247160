#include "upstream/router_client.hpp"

#include "core/error.hpp"
#include "crypto/keypair.hpp"

namespace aimo::upstream {

RouterSettings router_settings(const core::Settings& settings) {
    RouterSettings out;
    const auto& url = settings.get("router_url");
    try {
        out.url = parse_url(url.value, "router URL (from " + url.origin + ")");
    } catch (const core::Error& e) {
        if (url.source == core::SettingSource::flag) {
            throw;
        }
        throw core::Error(core::ErrorKind::invalid_input, e.what(),
                          "fix or remove it in " + url.origin);
    }
    out.keypair = settings.value("keypair");
    out.chain_id = settings.value("chain_id");
    out.timeouts.connect = std::chrono::seconds(settings.get_int("connect_timeout", 1, 3600));
    out.timeouts.read = std::chrono::seconds(settings.get_int("read_timeout", 1, 86400));
    if (const auto& ca = settings.get("ca_file"); !ca.value.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(ca.value, ec)) {
            throw core::Error(core::ErrorKind::usage,
                              "CA file '" + ca.value + "' (from " + ca.origin + ") does not exist",
                              "point --ca-file / AIMO_CA_FILE at a PEM file, or unset it");
        }
        out.ca_file = ca.value;
    }
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
