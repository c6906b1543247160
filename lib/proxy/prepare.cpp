#include "proxy/prepare.hpp"

#include "core/headers.hpp"

namespace aimo::proxy {

namespace {
// Headers that describe one hop, the client's credentials, or framing aimo recomputes.
bool dropped_request_header(std::string_view name) {
    for (std::string_view dropped :
         {"authorization", "host", "content-length", "connection", "keep-alive",
          "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding",
          "upgrade", "accept-encoding", "sign-in-with-x", "x-api-key", "expect"}) {
        if (core::ascii_iequals(name, dropped)) {
            return true;
        }
    }
    return false;
}

// Where a request's own completion limit goes when aimo must add one.
std::string_view limit_field(std::string_view endpoint) {
    return endpoint == "/responses" ? "max_output_tokens" : "max_tokens";
}
} // namespace

Prepared prepare_upstream(const Request& request, std::string_view endpoint,
                          openai::BodySummary summary, const governance::Meter* meter) {
    Prepared prepared;
    auto& out = prepared.outgoing;
    out.rest = std::string(endpoint);
    out.query = request.query;
    out.headers.reserve(request.headers.size());
    for (const auto& [name, value] : request.headers) {
        if (!dropped_request_header(name)) {
            out.headers.add(name, value);
        }
    }
    out.body = request.body;
    out.owned_body = request.owned_body;
    if (meter != nullptr) {
        if (auto limit = meter->max_tokens()) {
            // The remaining budget pays for fewer completion tokens than the request allows:
            // it goes out with that limit, and the client is told.
            out.owned_body = std::make_shared<const std::string>(
                openai::with_max_tokens(request.body, summary, *limit, limit_field(endpoint)));
            out.body = *out.owned_body;
            summary = openai::scan_body(out.body);
            prepared.response_headers.add("x-aimo-budget-max-tokens", std::to_string(*limit));
        }
    }
    out.model = summary.model;
    out.has_model = summary.has_model;
    out.model_begin = summary.model_begin;
    out.model_end = summary.model_end;
    prepared.stream = summary.stream;
    // To count a stream's tokens, ask for its usage; the client, who did not, never sees it.
    prepared.strip_usage = meter != nullptr && summary.stream && !summary.has_stream_options &&
                           (endpoint == "/chat/completions" || endpoint == "/completions");
    if (prepared.strip_usage) {
        size_t shift = 0;
        out.owned_body =
            std::make_shared<const std::string>(openai::with_include_usage(out.body, shift));
        out.body = *out.owned_body;
        out.model_begin += shift;
        out.model_end += shift;
    }
    return prepared;
}

} // namespace aimo::proxy
