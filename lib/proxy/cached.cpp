#include "proxy/cached.hpp"

#include "openai/completion.hpp"
#include "openai/sse.hpp"

#include <fmt/format.h>

namespace aimo::proxy {

Response cached_response(const cache::Lookup& hit, bool stream, bool include_usage) {
    Response response;
    response.headers.add("x-aimo-cache", std::string(cache::result_name(hit.result)));
    if (hit.result == cache::Result::hit_semantic) {
        response.headers.add("x-aimo-cache-similarity", fmt::format("{:.4f}", hit.similarity));
    }
    response.headers.add("x-aimo-provider", "cache");
    response.log.provider = "cache";
    response.log.attempts = "cache";
    response.log.upstream_us = 0;
    if (!stream) {
        response.body = hit.entry->completion;
        return response;
    }
    auto completion = nlohmann::json::parse(hit.entry->completion, nullptr, false);
    std::string events;
    for (const auto& data : openai::completion_events(completion, include_usage)) {
        events += openai::data_event(data);
    }
    response.content_type = "text/event-stream";
    response.headers.add("Cache-Control", "no-cache");
    response.body = std::move(events);
    return response;
}

} // namespace aimo::proxy
