#include "proxy/relay.hpp"

#include "core/error.hpp"
#include "openai/errors.hpp"
#include "openai/sse.hpp"

namespace aimo::proxy {

BodyStream relay_sse(std::shared_ptr<upstream::HttpResponse> upstream, EventFilter filter) {
    struct State {
        std::shared_ptr<upstream::HttpResponse> upstream;
        EventFilter filter;
        openai::SseReader reader;
        bool finished = false;
        // The complete events so far, each kept when the filter (if any) says so.
        std::string take() {
            if (!filter) {
                return reader.take_complete();
            }
            std::string out;
            std::string event;
            while (reader.next(event)) {
                if (filter(event)) {
                    out += event;
                }
            }
            return out;
        }
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
                state->reader.feed(piece);
                chunk = state->take();
                if (!chunk.empty()) {
                    return true; // whole events only: a client never sees half of one
                }
            }
            state->finished = true;
            chunk = state->take();
            std::string rest = state->reader.take_rest(); // a last event without its blank line
            if (!rest.empty() && (!state->filter || state->filter(rest))) {
                chunk += rest;
            }
            return !chunk.empty();
        } catch (const core::Error& e) {
            state->finished = true;
            chunk = openai::data_event(
                openai::error_json(std::string("upstream stream failed: ") + e.what(),
                                   "upstream_error", "upstream_stream_interrupted"));
            return true;
        }
    };
}

BodyStream relay_raw(std::shared_ptr<upstream::HttpResponse> upstream) {
    return [upstream](std::string& chunk) { return upstream->read(chunk); };
}

} // namespace aimo::proxy
