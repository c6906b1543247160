#pragma once

#include <string>
#include <string_view>

namespace aimo::upstream {

/// An absolute http(s) URL split into the parts a client needs.
struct Url {
    std::string scheme; ///< "http" or "https"
    std::string host;   ///< without brackets for IPv6
    int port = 0;       ///< explicit or the scheme's default
    bool explicit_port = false;
    std::string path; ///< never ends in '/', may be empty

    /// host, or host:port when the URL named a port (the SIWx "domain").
    std::string authority() const;
    /// scheme://authority, the key for connection reuse.
    std::string origin() const;
    /// origin() + path + `suffix`.
    std::string join(std::string_view suffix) const;
    bool tls() const { return scheme == "https"; }
};

/// Parses an absolute http:// or https:// URL; throws core::Error(usage) naming `what` (e.g.
/// "router URL") when it is not one. Query strings and fragments are rejected.
Url parse_url(std::string_view text, std::string_view what);

} // namespace aimo::upstream
