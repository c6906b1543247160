#include "proxy/relay.hpp"

#include "core/error.hpp"
#include "proxy/errors.hpp"

#include <algorithm>

namespace aimo::proxy {

namespace {
// End of the last complete SSE event in `text` (just past its blank line), or 0.
size_t complete_events_end(const std::string& text) {
    size_t lf = text.rfind("\n\n");
    size_t crlf = text.rfind("\r\n\r\n");
    size_t end = 0;
    if (lf != std::string::npos) {
        end = lf + 2;
    }
    if (crlf != std::string::npos && crlf + 4 > end) {
        end = crlf + 4;
    }
    return end;
}
// Keeps the events of `text` (complete events, each ending in a blank line) that `filter` keeps.
std::string filtered(const std::string& text, const EventFilter& filter) {
    std::string out;
    size_t start = 0;
    while (start < text.size()) {
        size_t lf = text.find("\n\n", start);
        size_t crlf = text.find("\r\n\r\n", start);
        size_t end = std::min(lf == std::string::npos ? text.size() : lf + 2,
                              crlf == std::string::npos ? text.size() : crlf + 4);
        std::string_view event(text.data() + start, end - start);
        if (filter(event)) {
            out.append(event);
        }
        start = end;
    }
    return out;
}
} // namespace

BodyStream relay_sse(std::shared_ptr<upstream::HttpResponse> upstream, EventFilter filter) {
    struct State {
        std::shared_ptr<upstream::HttpResponse> upstream;
        EventFilter filter;
        std::string pending;
        bool finished = false;
    };
    auto state = std::make_shared<State>();
    state->upstream = std::move(upstream);
    state->filter = std::move(filter);
    return [state](std::string& chunk) {
        if (state->finished) {
            return false;
        }
        std::string piece;
        try {
            while (state->upstream->read(piece)) {
                state->pending += piece;
                size_t end = complete_events_end(state->pending);
                if (end == 0) {
                    continue;
                }
                if (end == state->pending.size()) {
                    chunk.swap(state->pending);
                    state->pending.clear();
                } else {
                    chunk.assign(state->pending, 0, end);
                    state->pending.erase(0, end);
                }
                if (state->filter) {
                    chunk = filtered(chunk, state->filter);
                    if (chunk.empty()) {
                        continue; // everything dropped: read on rather than end the body
                    }
                }
                return true;
            }
            state->finished = true;
            chunk.swap(state->pending); // a final event without its blank line
            if (state->filter && !chunk.empty()) {
                chunk = filtered(chunk, state->filter);
            }
            return !chunk.empty();
        } catch (const core::Error& e) {
            state->finished = true;
            chunk = "data: " +
                    error_json(std::string("upstream stream failed: ") + e.what(), "upstream_error",
                               "upstream_stream_interrupted") +
                    "\n\n";
            return true;
        }
    };
}

BodyStream relay_raw(std::shared_ptr<upstream::HttpResponse> upstream) {
    return [upstream](std::string& chunk) { return upstream->read(chunk); };
}

} // namespace aimo::proxy
