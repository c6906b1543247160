#include "upstream/aimo_router.hpp"

namespace aimo::upstream {

std::string AimoRouter::url_for(std::string_view rest, std::string_view query) const {
    std::string url = m_base.join("/api/v1");
    url += rest;
    if (!query.empty()) {
        url += '?';
        url += query;
    }
    return url;
}

HttpRequest AimoRouter::request(std::string_view method, std::string_view rest,
                                std::string_view query, Headers headers,
                                std::string_view body) const {
    std::string url = url_for(rest, query);
    headers.add("SIGN-IN-WITH-X", m_signer->sign(m_base.authority(), url));
    HttpRequest request;
    request.method = std::string(method);
    request.target = url.substr(m_base.origin().size());
    request.headers = std::move(headers);
    request.body = body;
    return request;
}

HttpResponse AimoRouter::send(std::string_view method, std::string_view rest,
                              std::string_view query, Headers headers,
                              std::string_view body) const {
    return m_pool.send(m_base, request(method, rest, query, std::move(headers), body));
}

} // namespace aimo::upstream
