#include "proxy/dialects.hpp"

#include "anthropic/messages.hpp"
#include "anthropic/reverse.hpp"
#include "anthropic/stream.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "openai/completion.hpp"
#include "openai/fields.hpp"
#include "openai/sse.hpp"
#include "proxy/errors.hpp"
#include "responses/stream.hpp"
#include "responses/translate.hpp"

#include <ctime>
#include <fmt/format.h>
#include <utility>

namespace aimo::proxy {

namespace {
using nlohmann::json;
constexpr size_t max_answer = 64 * 1024 * 1024;

// How one dialect says things: a whole answer, an error, and (per request) a stream.
struct Translation {
    bool stream = false;
    /// A chat completion as the dialect's answer body. Throws core::Error.
    std::function<std::string(const json&)> whole;
    /// An error as the dialect's response.
    std::function<Response(int status, std::string_view message, std::string_view type,
                           std::string_view code)>
        error;
    /// One chat SSE event as the dialect's events, and what ends them.
    std::function<std::string(std::string_view)> event;
    std::function<std::string()> end;
};

// The chat request the pipeline sees in place of the client's.
// `keep_anthropic` keeps anthropic-version and anthropic-beta, for an Anthropic upstream.
Request as_chat(const Request& request, std::string body, std::string_view dialect,
                bool keep_anthropic = false) {
    Request chat;
    chat.method = request.method;
    chat.path = "/v1/chat/completions";
    chat.query = request.query;
    chat.id = request.id;
    chat.client_gone = request.client_gone;
    chat.dialect = dialect;
    for (const auto& [name, value] : request.headers) {
        // Anthropic's own headers mean nothing to a chat upstream.
        if (keep_anthropic || (!core::ascii_iequals(name, "anthropic-version") &&
                               !core::ascii_iequals(name, "anthropic-beta"))) {
            chat.headers.add(name, value);
        }
    }
    // Anthropic clients send their key as x-api-key: for aimo it is an agent token.
    if (chat.header("authorization").empty() && !request.header("x-api-key").empty()) {
        chat.headers.add("Authorization", "Bearer " + request.header("x-api-key"));
    }
    chat.owned_body = std::make_shared<const std::string>(std::move(body));
    chat.body = *chat.owned_body;
    return chat;
}

// The whole body of an answer that may still be streaming.
std::string drain(Response& response) {
    if (!response.stream) {
        return std::move(response.body);
    }
    std::string body;
    std::string chunk;
    while (response.stream(chunk)) {
        if (body.size() + chunk.size() > max_answer) {
            throw core::Error(core::ErrorKind::upstream_protocol,
                              "the provider's answer is larger than 64 MiB");
        }
        body += chunk;
        chunk.clear();
    }
    body += chunk;
    response.stream = nullptr;
    return body;
}

// An OpenAI-shaped error body's message, type and code; a generic one for other bodies.
struct ErrorParts {
    std::string message;
    std::string type;
    std::string code;
};

ErrorParts error_parts(int status, std::string_view body) {
    json parsed = core::parse_bounded(body);
    if (const auto* error = openai::field(parsed, "error")) {
        if (error->is_string()) {
            return {error->get<std::string>(), "upstream_error", ""};
        }
        if (const auto* message = openai::string_field(*error, "message")) {
            return {*message, openai::string_or(*error, "type"), openai::string_or(*error, "code")};
        }
    }
    return {fmt::format("the provider answered HTTP {}", status), "upstream_error",
            fmt::format("upstream_status_{}", status)};
}

// The answer's headers (x-aimo-*, Retry-After, x-ratelimit-*) and log on a new body.
Response rebody(Response from, Response to) {
    from.headers.append(std::move(to.headers));
    to.headers = std::move(from.headers);
    to.log = std::move(from.log);
    to.final_log = std::move(from.final_log);
    return to;
}

// A chat completion stream translated event by event; the translation ends it.
BodyStream translated_stream(BodyStream chat, const Translation& how) {
    struct State {
        BodyStream chat;
        openai::SseReader reader;
        std::function<std::string(std::string_view)> event;
        std::function<std::string()> end;
        bool ended = false;
    };
    auto state = std::make_shared<State>();
    state->chat = std::move(chat);
    state->event = how.event;
    state->end = how.end;
    return [state](std::string& out) {
        out.clear();
        std::string piece;
        std::string raw;
        // An empty chunk would end the response: pull until there is something to send.
        while (out.empty() && !state->ended) {
            piece.clear();
            bool more = state->chat(piece);
            state->reader.feed(piece);
            while (state->reader.next(raw)) {
                out += state->event(raw);
            }
            if (!more) {
                if (auto rest = state->reader.take_rest(); !rest.empty()) {
                    out += state->event(rest);
                }
                out += state->end();
                state->ended = true;
            }
        }
        return !out.empty();
    };
}

Response translated(Response chat, const Translation& how) {
    if (chat.status < 200 || chat.status >= 300) {
        std::string body;
        try {
            body = drain(chat);
        } catch (const core::Error&) {
        }
        auto parts = error_parts(chat.status, body);
        auto error = how.error(chat.status, parts.message, parts.type, parts.code);
        return rebody(std::move(chat), std::move(error));
    }
    if (how.stream && chat.content_type.find("text/event-stream") == 0) {
        if (!chat.stream) { // a whole event stream (a cache hit's replay)
            chat.stream = [body = std::move(chat.body)](std::string& chunk) mutable {
                chunk = std::exchange(body, {});
                return false;
            };
        }
        Response out;
        out.content_type = "text/event-stream";
        out.stream = translated_stream(std::move(chat.stream), how);
        return rebody(std::move(chat), std::move(out));
    }
    try {
        json completion = core::parse_bounded(drain(chat));
        Response out;
        if (!how.stream) {
            out.body = how.whole(completion);
            return rebody(std::move(chat), std::move(out));
        }
        // A stream asked for, a whole answer given (an upstream that ignores stream): its
        // events as the chat stream would have had them.
        out.content_type = "text/event-stream";
        for (const auto& data : openai::completion_events(completion, true)) {
            out.body += how.event(openai::data_event(data));
        }
        out.body += how.end();
        return rebody(std::move(chat), std::move(out));
    } catch (const core::Error& e) {
        return rebody(std::move(chat), how.error(502, std::string(e.what()) + "; " + e.hint(),
                                                 "upstream_error", "bad_upstream_response"));
    }
}

Response anthropic_error_of(int status, std::string_view message, std::string_view,
                            std::string_view) {
    return anthropic_error(status, message);
}

Response openai_error_of(int status, std::string_view message, std::string_view type,
                         std::string_view code) {
    return error_response(status, message, type.empty() ? "upstream_error" : type, code);
}

// A request that cannot be translated: the client's 400 in its dialect.
Response untranslatable(const core::Error& e, const Translation& how) {
    auto response = how.error(400, std::string(e.what()) + "; " + e.hint(), "invalid_request_error",
                              "invalid_request");
    response.headers.add("x-aimo-cache", "bypass");
    return response;
}
} // namespace

Response anthropic_error(int status, std::string_view message) {
    Response response;
    response.status = status;
    response.body = anthropic::error_json(anthropic::error_type(status), message);
    return response;
}

Response forward_messages(Forwarder& forwarder, const Request& request) {
    Translation how;
    how.error = anthropic_error_of;
    anthropic::ChatRequest chat;
    try {
        chat = anthropic::to_chat(request.body);
    } catch (const core::Error& e) {
        return untranslatable(e, how);
    }
    how.stream = chat.stream;
    how.whole = [model = chat.model](const json& completion) {
        return core::json_text(anthropic::from_chat(completion, model));
    };
    auto events = std::make_shared<anthropic::StreamTranslator>(chat.model);
    how.event = [events](std::string_view event) { return events->translate(event); };
    how.end = [events] { return events->end(); };
    return translated(
        forwarder.forward(as_chat(request, std::move(chat.body), "messages"), "/chat/completions"),
        how);
}

Response forward_native_messages(Forwarder& forwarder, const Request& request) {
    Request native = as_chat(request, std::string(request.body), "messages", true);
    native.path = request.path;
    Response response = forwarder.forward(native, "/messages");
    if (response.status >= 200 && response.status < 300) {
        return response;
    }
    // The provider's own errors are Anthropic's already; aimo's (a budget, a limit, no
    // route) are told again in that shape.
    std::string body;
    try {
        body = drain(response);
    } catch (const core::Error&) {
    }
    Response out;
    if (openai::string_or(core::parse_bounded(body), "type") == "error") {
        out.status = response.status;
        out.body = std::move(body);
    } else {
        out = anthropic_error(response.status, error_parts(response.status, body).message);
    }
    return rebody(std::move(response), std::move(out));
}

Response forward_chat_to_messages(Forwarder& forwarder, const Request& request) {
    Translation how;
    how.error = openai_error_of;
    anthropic::MessagesRequest messages;
    try {
        messages = anthropic::to_messages(request.body);
    } catch (const core::Error& e) {
        return untranslatable(e, how);
    }
    auto created = static_cast<int64_t>(std::time(nullptr));
    how.stream = messages.stream;
    how.whole = [model = messages.model, created](const json& message) {
        return core::json_text(anthropic::completion_of(message, model, created));
    };
    auto events = std::make_shared<anthropic::ChatStreamTranslator>(
        messages.model, messages.include_usage, created);
    how.event = [events](std::string_view event) { return events->translate(event); };
    how.end = [events] { return events->end(); };
    Request native = as_chat(request, std::move(messages.body), "", false);
    native.path = request.path;
    return translated(forwarder.forward(native, "/messages"), how);
}

Response count_message_tokens(governance::Gate& gate, const Request& request) {
    std::string authorization = request.header("authorization");
    if (authorization.empty() && !request.header("x-api-key").empty()) {
        authorization = "Bearer " + request.header("x-api-key");
    }
    auto who = gate.identify(authorization);
    if (auto* denial = std::get_if<governance::Denial>(&who)) {
        auto refused = denial_response(*denial);
        return rebody(std::move(refused), anthropic_error(denial->status, denial->message));
    }
    try {
        Response response;
        response.body =
            core::json_text(json{{"input_tokens", anthropic::estimate_input_tokens(request.body)}});
        return response;
    } catch (const core::Error& e) {
        return anthropic_error(400, std::string(e.what()) + "; " + e.hint());
    }
}

Response forward_responses(Forwarder& forwarder, const Request& request) {
    Translation how;
    how.error = openai_error_of;
    responses::ChatRequest chat;
    try {
        chat = responses::to_chat(request.body);
    } catch (const core::Error& e) {
        return untranslatable(e, how);
    }
    how.stream = chat.stream;
    how.whole = [model = chat.model, echo = chat.echo](const json& completion) {
        return core::json_text(
            responses::response_json(responses::answer_of(completion), echo, model, true));
    };
    auto events = std::make_shared<responses::StreamTranslator>(chat.model, chat.echo);
    how.event = [events](std::string_view event) { return events->translate(event); };
    how.end = [events] { return events->end(); };
    auto dropped = std::move(chat.dropped_tools);
    auto response = translated(
        forwarder.forward(as_chat(request, std::move(chat.body), "responses"), "/chat/completions"),
        how);
    if (!dropped.empty()) { // said, not silent: the model never saw these tools
        std::string types;
        for (const auto& type : dropped) {
            types += (types.empty() ? "" : ",") + type;
        }
        response.headers.add("x-aimo-dropped-tools", types);
    }
    return response;
}

} // namespace aimo::proxy
