#pragma once

#include "core/context.hpp"
#include "upstream/aimo_router.hpp"
#include "upstream/http_client.hpp"

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace aimo::upstream {

/// The settings every router-using command shares, validated.
struct RouterSettings {
    Url url;
    std::filesystem::path keypair;
    std::string chain_id;
    Timeouts timeouts;
    std::chrono::milliseconds signature_reuse{0};
    std::string ca_file; ///< empty: the system's CA store
};

/// A connection pool and a signing router client that uses it.
struct RouterClient {
    RouterClient(const RouterSettings& settings, crypto::SiwxSigner signer)
        : pool(settings.timeouts, settings.ca_file),
          router(settings.url, std::make_shared<const crypto::SiwxSigner>(std::move(signer)),
                 pool) {}
    ClientPool pool;
    AimoRouter router;
};

/// Loads the keypair (appending any warnings) and builds a client signing with the context's
/// clock. Throws core::Error when the keypair is missing or invalid.
std::unique_ptr<RouterClient> make_router_client(const core::Context& ctx,
                                                 const RouterSettings& settings,
                                                 std::vector<std::string>& warnings);

} // namespace aimo::upstream
