#include "upstream/url.hpp"

#include "core/error.hpp"

#include <charconv>
#include <fmt/format.h>

namespace aimo::upstream {

std::string Url::authority() const {
    std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    return explicit_port ? h + ":" + std::to_string(port) : h;
}

std::string Url::origin() const {
    return scheme + "://" + authority();
}

std::string Url::join(std::string_view suffix) const {
    return origin() + path + std::string(suffix);
}

Url parse_url(std::string_view text, std::string_view what) {
    auto fail = [&](std::string_view why) -> core::Error {
        return core::Error(core::ErrorKind::usage,
                           fmt::format("invalid {} '{}': {}", what, text, why),
                           "use an absolute URL such as https://beta.aimo.network");
    };
    Url url;
    auto scheme_end = text.find("://");
    if (scheme_end == std::string_view::npos) {
        throw fail("it has no scheme");
    }
    url.scheme = std::string(text.substr(0, scheme_end));
    if (url.scheme != "http" && url.scheme != "https") {
        throw fail("only http and https are supported");
    }
    auto rest = text.substr(scheme_end + 3);
    if (rest.find_first_of("?#") != std::string_view::npos) {
        throw fail("query strings and fragments are not allowed");
    }
    auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    url.path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
    while (!url.path.empty() && url.path.back() == '/') {
        url.path.pop_back();
    }
    if (authority.find('@') != std::string_view::npos) {
        throw fail("credentials in URLs are not supported");
    }
    std::string_view port_text;
    bool has_port = false;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) {
            throw fail("unterminated IPv6 address");
        }
        url.host = std::string(authority.substr(1, close - 1));
        auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                throw fail("unexpected text after the IPv6 address");
            }
            port_text = after.substr(1);
            has_port = true;
        }
    } else {
        auto colon = authority.find(':');
        url.host = std::string(authority.substr(0, colon));
        if (colon != std::string_view::npos) {
            port_text = authority.substr(colon + 1);
            has_port = true;
        }
    }
    if (url.host.empty()) {
        throw fail("it has no host");
    }
    url.port = url.tls() ? 443 : 80;
    if (has_port) {
        int port = 0;
        auto [ptr, ec] =
            std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
        if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 1 ||
            port > 65535) {
            throw fail("the port must be a number from 1 to 65535");
        }
        url.port = port;
        url.explicit_port = true;
    }
    return url;
}

} // namespace aimo::upstream
