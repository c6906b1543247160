#pragma once

#include "routing/catalogue_cache.hpp"
#include "routing/config.hpp"
#include "routing/provider.hpp"

#include <deque>
#include <memory>
#include <string_view>

namespace aimo::routing {

/// Where one request may go, in order of preference.
struct Plan {
    std::vector<Target> targets;
};

/// One immutable routing state built from a RoutingConfig: the providers, model naming and the
/// merged catalogue. A reload builds a new Table; requests keep the one they started with.
class Table {
public:
    /// `signer` may be null when no provider is of kind "aimo".
    Table(RoutingConfig config, std::shared_ptr<const crypto::SiwxSigner> signer,
          upstream::ClientPool& pool, std::chrono::seconds catalogue_ttl);
    Table(const Table&) = delete;
    Table& operator=(const Table&) = delete;

    const RoutingConfig& config() const { return m_config; }
    /// The provider named `name`, or nullptr.
    const Provider* provider(std::string_view name) const;
    const std::deque<Provider>& providers() const { return m_providers; }

    /// Every provider's models in one OpenAI list (cached). Without [[providers]] this is the
    /// router's list unchanged; otherwise ids are "<provider>/<model>", followed by routes and
    /// aliases. Throws core::Error when no provider's list could be fetched.
    std::shared_ptr<const CachedCatalogue> catalogue() const;
    /// The catalogue entry a client means by `id` (any name resolve() accepts), or nullptr.
    const upstream::ModelInfo* find_model(const CachedCatalogue& catalogue,
                                          std::string_view id) const;

    /// Where a request for `model` goes: an alias is followed once, then a route gives its
    /// chain; "<provider>/<model>" names one provider; a bare id goes to the provider offering
    /// it. Throws core::Error: not_found for an unknown model, invalid_input when a bare id is
    /// offered by several providers or a request without a model could go to several.
    Plan resolve(std::string_view model) const;

    /// USD per million prompt and completion tokens for `target`: the catalogue's price, else
    /// the provider's price_in/price_out, else zero (unknown: such requests cost nothing).
    std::pair<double, double> prices(const Target& target) const;

private:
    CachedCatalogue fetch_catalogue() const;

    RoutingConfig m_config;
    std::deque<Provider> m_providers; // stable addresses
    mutable CatalogueCache m_catalogue;
};

} // namespace aimo::routing
