#include "routing/loader.hpp"

#include "crypto/keypair.hpp"

#include <fmt/format.h>

namespace aimo::routing {

TableLoader::TableLoader(const core::Context& ctx, upstream::RouterSettings router,
                         std::chrono::seconds catalogue_ttl, upstream::ClientPool& pool,
                         Source source)
    : m_ctx(ctx), m_router(std::move(router)), m_ttl(catalogue_ttl), m_pool(pool),
      m_source(std::move(source)) {}

std::shared_ptr<const Table> TableLoader::load() {
    auto config = m_source();
    bool needs_keypair = false;
    for (const auto& provider : config.providers) {
        needs_keypair = needs_keypair || provider.kind == ProviderKind::aimo;
    }
    if (needs_keypair && !m_signer) {
        auto loaded = crypto::load_keypair(m_router.keypair);
        m_warnings.insert(m_warnings.end(), loaded.warnings.begin(), loaded.warnings.end());
        m_signer = std::make_shared<const crypto::SiwxSigner>(
            std::move(loaded.keypair), m_router.chain_id, m_ctx.now, std::chrono::minutes(5),
            m_router.signature_reuse);
    }
    return std::make_shared<const Table>(std::move(config), m_signer, m_pool, m_ttl);
}

ModelsSnapshot fetch_configured_models(const core::Context& ctx,
                                       const upstream::RouterSettings& router, RoutingConfig config,
                                       const std::filesystem::path& file) {
    upstream::ClientPool pool(router.timeouts, router.ca_file);
    TableLoader loader(ctx, router, std::chrono::seconds(0), pool,
                       [&config] { return std::move(config); });
    auto table = loader.load();
    ModelsSnapshot snapshot;
    snapshot.catalogue = table->catalogue();
    snapshot.source = table->config().implicit ? "the router at " + router.url.origin()
                                               : "the providers in " + file.string();
    snapshot.warnings = loader.warnings();
    for (const auto& problem : snapshot.catalogue->problems) {
        snapshot.warnings.push_back("no model list from provider " + problem);
    }
    snapshot.warnings.insert(snapshot.warnings.end(), snapshot.catalogue->warnings.begin(),
                             snapshot.catalogue->warnings.end());
    return snapshot;
}

std::vector<std::string> describe_providers(const Table& table) {
    std::vector<std::string> out;
    for (const auto& provider : table.providers()) {
        out.push_back(
            fmt::format("{} ({})", provider.name(), provider.url().origin() + provider.url().path));
    }
    return out;
}

} // namespace aimo::routing
