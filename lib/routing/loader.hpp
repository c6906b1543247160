#pragma once

#include "core/context.hpp"
#include "routing/table.hpp"
#include "upstream/router_client.hpp"

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace aimo::routing {

/// Builds routing Tables from routing configs. The keypair is loaded the first time a provider
/// of kind "aimo" needs it and reused afterwards, so a reload never re-reads it.
class TableLoader {
public:
    /// Where each load() gets its config: the config file as it is now.
    using Source = std::function<RoutingConfig()>;

    TableLoader(const core::Context& ctx, upstream::RouterSettings router,
                std::chrono::seconds catalogue_ttl, upstream::ClientPool& pool, Source source);

    /// Takes the config from the source and builds a Table. Throws core::Error for an invalid
    /// config, an unset api_key_env variable, or a missing or invalid keypair.
    std::shared_ptr<const Table> load();
    /// The wallet address once the keypair is loaded, else empty.
    std::string address() const { return m_signer ? m_signer->address() : std::string(); }
    /// The default AiMo router, signing with the keypair once it is loaded; nullopt before
    /// (no provider of kind "aimo").
    std::optional<upstream::AimoRouter> router() const {
        if (!m_signer) {
            return std::nullopt;
        }
        return upstream::AimoRouter(m_router.url, m_signer, m_pool);
    }
    /// Warnings from loading the keypair (e.g. loose file permissions).
    const std::vector<std::string>& warnings() const { return m_warnings; }

private:
    const core::Context& m_ctx;
    upstream::RouterSettings m_router;
    std::chrono::seconds m_ttl;
    upstream::ClientPool& m_pool;
    Source m_source;
    std::shared_ptr<const crypto::SiwxSigner> m_signer;
    std::vector<std::string> m_warnings;
};

/// The catalogue the proxy would serve, fetched once for a command.
struct ModelsSnapshot {
    std::shared_ptr<const CachedCatalogue> catalogue;
    std::string source;                ///< "the router at …" or "the providers in <config file>"
    std::vector<std::string> warnings; ///< keypair warnings, providers whose list failed
};

/// Fetches every provider's models of `config` (read from `file`). Throws core::Error when the
/// config is invalid or no provider's list could be fetched.
ModelsSnapshot fetch_configured_models(const core::Context& ctx,
                                       const upstream::RouterSettings& router, RoutingConfig config,
                                       const std::filesystem::path& file);

/// "name (url)" for each provider, in config order.
std::vector<std::string> describe_providers(const Table& table);

} // namespace aimo::routing
