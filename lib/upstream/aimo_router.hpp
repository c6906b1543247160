#pragma once

#include "crypto/siwx.hpp"
#include "upstream/http_client.hpp"
#include "upstream/url.hpp"

#include <memory>
#include <string_view>

namespace aimo::upstream {

/// The AiMo router: every request goes to `<base>/api/v1<rest>` and carries a fresh
/// SIGN-IN-WITH-X header signed for that exact URL.
class AimoRouter {
public:
    AimoRouter(Url base, std::shared_ptr<const crypto::SiwxSigner> signer, ClientPool& pool)
        : m_base(std::move(base)), m_signer(std::move(signer)), m_pool(pool) {}

    /// The signed request for `rest` and `query`, ready for ClientPool::send or start.
    HttpRequest request(std::string_view method, std::string_view rest, std::string_view query,
                        Headers headers, std::string_view body) const;

    /// Sends a signed request. `rest` starts with '/', e.g. "/chat/completions"; `query` is the
    /// raw query string without '?' (may be empty). `headers` must not contain Host or
    /// Content-Length. Throws core::Error as ClientPool::send does.
    HttpResponse send(std::string_view method, std::string_view rest, std::string_view query,
                      Headers headers, std::string_view body) const;

    /// Signs ahead the header request() will need for `rest` and `query` (SiwxSigner::presign).
    void presign(std::string_view rest, std::string_view query) const {
        m_signer->presign(m_base.authority(), url_for(rest, query));
    }

    /// The full upstream URL for `rest` and `query`.
    std::string url_for(std::string_view rest, std::string_view query) const;

    const Url& base() const { return m_base; }
    const std::string& address() const { return m_signer->address(); }
    ClientPool& pool() const { return m_pool; }

private:
    Url m_base;
    std::shared_ptr<const crypto::SiwxSigner> m_signer;
    ClientPool& m_pool;
};

} // namespace aimo::upstream
