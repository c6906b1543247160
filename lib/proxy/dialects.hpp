#pragma once

#include "governance/gate.hpp"
#include "proxy/forwarder.hpp"
#include "proxy/types.hpp"

namespace aimo::proxy {

/// The dialect edge of the forward pipeline: a client speaking another API than chat
/// completions is translated to it here, goes through the one pipeline as a chat completion
/// (authentication, limits and budget, routing, cache, scheduler, metering from the chat
/// answer's usage, the ledger with its dialect), and its answer is translated back — whole,
/// or event by event for a stream, and errors in the dialect's own shape.

/// `POST /v1/messages` (Anthropic Messages). The agent token may come as `x-api-key` or as
/// `Authorization: Bearer`. Never throws.
Response forward_messages(Forwarder& forwarder, const Request& request);

/// `POST /v1/messages` to a provider of kind anthropic: the body as it came, the client's
/// anthropic-* headers kept, through the same pipeline; every error in Anthropic's shape.
/// Never throws.
Response forward_native_messages(Forwarder& forwarder, const Request& request);

/// `POST /v1/chat/completions` to a provider of kind anthropic: translated to Messages and
/// its answer (whole or streamed) back to chat, errors OpenAI-shaped. Never throws.
Response forward_chat_to_messages(Forwarder& forwarder, const Request& request);

/// `POST /v1/messages/count_tokens`, answered locally (anthropic::estimate_input_tokens) for a
/// caller the gate knows. Never throws.
Response count_message_tokens(governance::Gate& gate, const Request& request);

/// `POST /v1/responses` to a provider without the Responses API. Never throws.
Response forward_responses(Forwarder& forwarder, const Request& request);

/// The error response a Messages client expects: `{"type":"error","error":{…}}`.
Response anthropic_error(int status, std::string_view message);

} // namespace aimo::proxy
