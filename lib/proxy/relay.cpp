#include "proxy/relay.hpp"

#include "core/error.hpp"
#include "proxy/errors.hpp"

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
} // namespace

BodyStream relay_sse(std::shared_ptr<upstream::HttpResponse> upstream) {
    struct State {
        std::shared_ptr<upstream::HttpResponse> upstream;
        std::string pending;
        bool finished = false;
    };
    auto state = std::make_shared<State>();
    state->upstream = std::move(upstream);
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
                return true;
            }
            state->finished = true;
            chunk.swap(state->pending); // a final event without its blank line
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
