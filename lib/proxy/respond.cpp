#include "proxy/respond.hpp"

#include "openai/errors.hpp"
#include "openai/request.hpp"
#include "openai/sse.hpp"
#include "openai/usage.hpp"
#include "proxy/errors.hpp"
#include "proxy/relay.hpp"

#include <fmt/format.h>

namespace aimo::proxy {

namespace {
using routing::Dispatch;
constexpr size_t max_upstream_body = 64 * 1024 * 1024;

// How a dispatch that has stopped waiting ended.
enum class Ending {
    failed,       ///< no answer worth passing on (every attempt failed, or circuits open)
    refused,      ///< the upstream answered with an error status
    event_stream, ///< a successful SSE answer
    byte_stream,  ///< a successful answer of unknown length
    whole,        ///< a successful answer of known length
};

Ending ending_of(Dispatch& dispatch, Dispatch::State state) {
    if (state == Dispatch::State::failed) {
        return Ending::failed;
    }
    auto& answer = dispatch.response();
    if (answer.status < 200 || answer.status >= 300) {
        return Ending::refused;
    }
    const std::string* type = answer.header("content-type");
    if (type && type->find("text/event-stream") != std::string::npos) {
        return Ending::event_stream;
    }
    return answer.header("content-length") ? Ending::whole : Ending::byte_stream;
}

// Once the dispatch has ended: what failed on the way (for /metrics), and who answered at
// what price (for the record).
void account(const RespondOptions& options, const Dispatch& dispatch) {
    if (options.metrics != nullptr) {
        for (const auto& attempt : dispatch.attempts()) {
            if (attempt.failed) {
                options.metrics->upstream_error(attempt.provider, attempt.outcome);
            }
        }
    }
    if (options.meter) {
        std::optional<governance::Prices> prices;
        if (const auto* target = dispatch.answered_target()) {
            auto [in, out] = dispatch.table().prices(*target);
            prices = governance::Prices{in, out};
        }
        options.meter->set_provider(dispatch.provider(), prices);
        options.meter->set_queue_wait(dispatch.queued_us());
    }
    if (options.metrics != nullptr && dispatch.queued_us() > 0) {
        options.metrics->queue_wait(static_cast<double>(dispatch.queued_us()) / 1e6);
    }
    if (options.fill) {
        const auto* target = dispatch.answered_target();
        options.fill->answered_by(dispatch.provider(), target ? target->model : std::string());
    }
}

// An answer's usage, for the record and for its provider's tpm.
void observe(governance::Meter& meter, Dispatch& dispatch, const openai::TokenUsage& usage) {
    auto now = meter.observe(usage);
    if (usage.found) {
        dispatch.used_tokens(now.prompt + now.completion);
    }
}

void finish(const RespondOptions& options, int status) {
    if (options.meter) {
        options.meter->finish(status);
    }
}

// Records the request when `stream` ends (a stream cut short is recorded by the destructor)
// and tells the cache's fill it ended.
BodyStream finish_at_end(BodyStream stream, const RespondOptions& options, int status) {
    if (!options.meter && !options.fill) {
        return stream;
    }
    return [stream = std::move(stream), meter = options.meter, fill = options.fill,
            status](std::string& chunk) {
        bool more = stream(chunk);
        if (!more) {
            if (fill) {
                fill->end(status);
            }
            if (meter) {
                meter->finish(status);
            }
        }
        return more;
    };
}

// A successful answer's body as it arrives; an event stream's usage is observed and the
// usage-only event aimo asked for on the client's behalf dropped.
BodyStream relayed(std::shared_ptr<Dispatch> dispatch, Ending ending, const RespondOptions& options,
                   int status) {
    // Aliasing: the response lives inside the dispatch, which the relay keeps alive.
    std::shared_ptr<upstream::HttpResponse> answer(dispatch, &dispatch->response());
    if (ending != Ending::event_stream) {
        RespondOptions unfilled = options;
        unfilled.fill.reset(); // an answer of unknown shape is not stored
        return finish_at_end(relay_raw(std::move(answer)), unfilled, status);
    }
    if (!options.meter && !options.fill) {
        return relay_sse(std::move(answer));
    }
    // The relay keeps the dispatch alive as long as the filter runs.
    auto filter = [meter = options.meter, fill = options.fill, strip = options.strip_usage,
                   dispatch = dispatch.get()](std::string_view event) {
        if (fill) {
            if (auto data = openai::event_data(event)) {
                fill->event(*data);
            }
        }
        if (!meter) {
            return true;
        }
        auto found = openai::usage_from_event(event);
        observe(*meter, *dispatch, found.usage);
        return !(strip && found.usage_only);
    };
    return finish_at_end(relay_sse(std::move(answer), std::move(filter)), options, status);
}

// How a dispatch that failed is told: its status, error type and code.
struct FailureCode {
    int status;
    std::string_view type;
    std::string_view code;
};

FailureCode failure_code(const Dispatch& dispatch) {
    switch (dispatch.failure()) {
    case routing::Failure::queue_timeout:
        return {429, "rate_limit_error", "queue_timeout"};
    case routing::Failure::held:
        return {429, "rate_limit_error", "provider_rate_limited"};
    case routing::Failure::client_gone:
        return {499, "upstream_error", "client_closed_request"};
    default:
        return {503, "upstream_error",
                dispatch.retry_after().count() > 0 ? "provider_unavailable"
                                                   : "upstream_unreachable"};
    }
}

Response failure_response(const Dispatch& dispatch) {
    if (dispatch.failure() != routing::Failure::upstream || dispatch.retry_after().count() > 0) {
        auto failed = failure_code(dispatch);
        const auto& error = dispatch.error();
        auto response =
            error_response(failed.status, std::string(error.what()) + "; " + error.hint(),
                           failed.type, failed.code);
        if (dispatch.retry_after().count() > 0) {
            response.headers.add("Retry-After",
                                 std::to_string(core::whole_seconds(dispatch.retry_after())));
        }
        return response;
    }
    return upstream_error_response(dispatch.error());
}

// The ending as one SSE error event, for when keep-alives already committed status 200.
std::string error_event(Dispatch& dispatch, Ending ending) {
    if (ending == Ending::failed) {
        auto failed = failure_code(dispatch);
        return openai::data_event(
            openai::error_json(dispatch.error().what(), failed.type, failed.code));
    }
    auto& answer = dispatch.response();
    std::string body;
    try {
        body = answer.read_all(1024 * 1024);
    } catch (const core::Error&) {
    }
    if (openai::scan_body(body).is_object && body.find("\"error\"") != std::string::npos) {
        std::string line;
        for (char c : body) {
            if (c != '\n' && c != '\r') {
                line += c;
            }
        }
        return openai::data_event(line);
    }
    return openai::data_event(openai::error_json(
        fmt::format("provider {} answered HTTP {}", dispatch.provider(), answer.status),
        "upstream_error", "upstream_status_" + std::to_string(answer.status)));
}

void add_routing_headers(Response& response, const Dispatch& dispatch) {
    response.headers.add("x-aimo-provider", dispatch.provider());
    response.headers.add("x-aimo-attempts", dispatch.attempts_text());
    response.log.provider = dispatch.provider();
    response.log.attempts = dispatch.attempts_text();
    response.log.upstream_us = dispatch.upstream_us();
}

long long micros_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                 start)
        .count();
}

// Headers that describe the upstream's hop or that the front door writes itself.
bool dropped_response_header(std::string_view name) {
    for (std::string_view dropped :
         {"connection", "keep-alive", "transfer-encoding", "content-length", "content-type", "date",
          "server", "trailer", "upgrade", "set-cookie", "x-request-id", "content-encoding"}) {
        if (core::ascii_iequals(name, dropped)) {
            return true;
        }
    }
    return false;
}

// A stream whose first byte is late: 200 and keep-alive comments now, the ending when it comes.
Response keepalive_stream(std::shared_ptr<Dispatch> dispatch, RespondOptions options) {
    struct State {
        std::shared_ptr<Dispatch> dispatch;
        RespondOptions options;
        std::shared_ptr<LogFields> log;
        BodyStream relay;
        bool done = false;
        bool greeted = false; ///< the first comment is out
    };
    auto state = std::make_shared<State>();
    state->log = std::make_shared<LogFields>();
    state->log->model = options.model;
    state->log->overhead_us = micros_since(options.start); // the wait included: no status yet
    state->dispatch = std::move(dispatch);
    state->options = std::move(options);
    Response response;
    response.content_type = "text/event-stream";
    response.headers.add("Cache-Control", "no-cache");
    response.final_log = state->log;
    response.stream = [state](std::string& chunk) {
        if (state->relay) {
            return state->relay(chunk);
        }
        if (state->done) {
            return false;
        }
        auto& dispatch = *state->dispatch;
        // A request waiting its turn says so at once: the client sees its stream start.
        auto outcome =
            state->greeted ? dispatch.advance(state->options.keepalive) : Dispatch::State::waiting;
        state->greeted = true;
        if (outcome == Dispatch::State::waiting) {
            chunk = dispatch.queued() ? ": queued\n\n" : ": keep-alive\n\n";
            return true;
        }
        state->log->provider = dispatch.provider();
        state->log->attempts = dispatch.attempts_text();
        state->log->upstream_us = dispatch.upstream_us();
        account(state->options, dispatch);
        auto ending = ending_of(dispatch, outcome);
        if (ending == Ending::failed || ending == Ending::refused) {
            state->done = true;
            chunk = error_event(dispatch, ending);
            finish(state->options, 200);
            return true;
        }
        state->relay = relayed(state->dispatch, ending, state->options, 200);
        return state->relay(chunk);
    };
    return response;
}
} // namespace

Response respond(std::shared_ptr<Dispatch> dispatch, RespondOptions options) {
    // A stream starts with comments when its first byte is late, or at once when it has to
    // wait its turn in a provider's queue (runtimes give up on a silent stream).
    if (options.stream && options.keepalive.count() > 0 &&
        dispatch->advance(std::chrono::milliseconds(0)) == Dispatch::State::waiting &&
        (dispatch->queued() || dispatch->advance(options.keepalive) == Dispatch::State::waiting)) {
        return keepalive_stream(std::move(dispatch), std::move(options));
    }
    auto outcome = Dispatch::State::waiting;
    while (outcome == Dispatch::State::waiting) {
        outcome = dispatch->advance(std::chrono::hours(24));
    }
    account(options, *dispatch);
    auto ending = ending_of(*dispatch, outcome);
    Response response;
    if (ending == Ending::failed) {
        response = failure_response(*dispatch);
        finish(options, response.status);
    } else {
        auto& answer = dispatch->response();
        response.status = answer.status;
        for (const auto& [name, value] : answer.headers) {
            if (!dropped_response_header(name)) {
                response.headers.add(name, value);
            }
        }
        const std::string* type = answer.header("content-type");
        response.content_type = type ? *type : "application/json";
        if (ending == Ending::event_stream || ending == Ending::byte_stream) {
            response.stream = relayed(dispatch, ending, options, response.status);
        } else {
            try {
                response.body = answer.read_all(max_upstream_body);
            } catch (const core::Error& e) {
                response = upstream_error_response(e);
            }
            if (options.meter) {
                observe(*options.meter, *dispatch, openai::usage_from_json(response.body));
            }
            if (options.fill) {
                options.fill->json(response.status, response.body);
            }
            finish(options, response.status);
        }
    }
    add_routing_headers(response, *dispatch);
    response.log.model = std::move(options.model);
    response.log.overhead_us =
        std::max(0LL, micros_since(options.start) - std::max(0LL, dispatch->upstream_us()));
    return response;
}

} // namespace aimo::proxy
