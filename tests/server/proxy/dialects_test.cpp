// Anthropic Messages and the Responses API in, a chat-completions upstream out: the one
// pipeline (auth, budget, cache, ledger) behind each dialect, errors in the dialect's shape.
#include "fake_router.hpp"
#include "fake_upstream.hpp"
#include "governance/ledger.hpp"
#include "http_helpers.hpp"
#include "openai/sse.hpp"
#include "proxy_fixture.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

using namespace aimo;
using namespace aimo::test;
using Catch::Matchers::Contains;
using nlohmann::json;

namespace {
struct Setup {
    FakeRouter router;
    FakeUpstream local{"local", {"llama3"}};
    TempDir dir;
    std::unique_ptr<ProxyFixture> proxy;
    explicit Setup(const std::string& extra = "", std::map<std::string, std::string> env = {}) {
        ProxyFixtureOptions o;
        o.env = std::move(env);
        o.config = fmt::format(R"(
[[providers]]
name = "local"
base_url = "{}"
price_in = 1.0
price_out = 2.0
{}
)",
                               local.base_url(), extra);
        o.database = dir / "aimo.db";
        proxy = std::make_unique<ProxyFixture>(router.url(), o);
    }
    int port() const { return proxy->port(); }
    std::string agent(const std::string& name, governance::AgentLimits limits = {}) {
        governance::Database db(dir / "aimo.db");
        return governance::AgentStore(db).create(name, limits, "2026-12-01T00:00:00Z");
    }
    std::vector<governance::StoredRecord> records() {
        proxy->flush_ledger();
        return governance::read_records(proxy->db(), 1000);
    }
};

json message_request(bool stream = false) {
    return {{"model", "local/llama3"},
            {"max_tokens", 64},
            {"temperature", 0},
            {"stream", stream},
            {"system", "Be brief."},
            {"messages", {{{"role", "user"}, {"content", "Weather in Paris?"}}}}};
}

const httplib::Headers anthropic_headers = {{"x-api-key", "sk-ant-anything"},
                                            {"anthropic-version", "2023-06-01"},
                                            {"anthropic-beta", "tools-2024-04-04"}};

Scripted answer(int status, std::string body) {
    Scripted scripted;
    scripted.status = status;
    scripted.body = std::move(body);
    return scripted;
}

std::string completion(const json& message, const std::string& finish, int prompt, int out) {
    return json{{"id", "chatcmpl-1"},
                {"object", "chat.completion"},
                {"model", "llama3"},
                {"choices", {{{"index", 0}, {"message", message}, {"finish_reason", finish}}}},
                {"usage", {{"prompt_tokens", prompt}, {"completion_tokens", out}}}}
        .dump();
}

std::vector<std::string> tool_stream() {
    auto chunk = FakeUpstream::chunk_event;
    auto call = [](const json& function, const std::string& id = "") {
        return FakeUpstream::tool_call_delta(function, id);
    };
    return {chunk({{"role", "assistant"}, {"content", "Checking"}}, nullptr),
            chunk(call({{"name", "weather"}, {"arguments", ""}}, "call_p"), nullptr),
            chunk(call({{"arguments", "{\"city\":"}}), nullptr),
            chunk(call({{"arguments", "\"Paris\"}"}}), nullptr),
            chunk(json::object(), "tool_calls"),
            "data: " +
                json{{"id", "chatcmpl-stream"},
                     {"choices", json::array()},
                     {"usage", {{"prompt_tokens", 21}, {"completion_tokens", 8}}}}
                    .dump() +
                "\n\n",
            "data: [DONE]\n\n"};
}

// Each event of an SSE body: its `event:` name (or the data's type) and its data.
std::vector<std::pair<std::string, json>> events_of(const std::string& body) {
    std::vector<std::pair<std::string, json>> out;
    openai::SseReader reader;
    reader.feed(body);
    std::string event;
    while (reader.next(event)) {
        if (auto data = openai::event_data(event)) {
            auto parsed = json::parse(*data);
            out.emplace_back(parsed.value("type", ""), parsed);
        }
    }
    return out;
}
} // namespace

TEST_CASE("a Messages request is answered from a chat upstream, whole", "[dialects]") {
    Setup s;
    s.local.script(
        {answer(200, completion({{"role", "assistant"}, {"content", "Sunny."}}, "stop", 12, 3))});
    auto reply = http_post(s.port(), "/v1/messages", message_request().dump(), anthropic_headers);
    REQUIRE(reply.status == 200);
    auto message = json::parse(reply.body);
    CHECK(message["type"] == "message");
    CHECK(message["role"] == "assistant");
    CHECK(message["model"] == "local/llama3");
    CHECK(message["content"] == json{{{"type", "text"}, {"text", "Sunny."}}});
    CHECK(message["stop_reason"] == "end_turn");
    CHECK(message["usage"]["input_tokens"] == 12);
    CHECK(message["usage"]["output_tokens"] == 3);
    CHECK(reply.header("x-aimo-provider") == "local");

    auto seen = s.local.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].path == "/v1/chat/completions");
    auto chat = json::parse(seen[0].body);
    CHECK(chat["model"] == "llama3");
    CHECK(chat["messages"][0] == json{{"role", "system"}, {"content", "Be brief."}});
    CHECK(chat["max_tokens"] == 64);
    for (const char* dropped :
         {"x-api-key", "anthropic-version", "anthropic-beta", "Authorization"}) {
        CAPTURE(dropped);
        CHECK(seen[0].header(dropped).empty());
    }

    auto records = s.records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].record.dialect == "messages");
    CHECK(records[0].record.prompt_tokens == 12);
    CHECK(records[0].record.completion_tokens == 3);
    CHECK(records[0].record.cost_usd > 0);
}

TEST_CASE("a streamed Messages tool call arrives as Anthropic events in order", "[dialects]") {
    Setup s;
    Scripted streamed;
    streamed.sse = tool_stream();
    s.local.script({streamed});
    auto reply =
        http_post(s.port(), "/v1/messages", message_request(true).dump(), anthropic_headers);
    REQUIRE(reply.status == 200);
    CHECK_THAT(reply.header("Content-Type"), Contains("text/event-stream"));
    auto events = events_of(reply.body);
    std::vector<std::string> names;
    for (const auto& [name, data] : events) {
        names.push_back(name);
    }
    CHECK(names == std::vector<std::string>{"message_start", "content_block_start",
                                            "content_block_delta", "content_block_stop",
                                            "content_block_start", "content_block_delta",
                                            "content_block_delta", "content_block_stop",
                                            "message_delta", "message_stop"});
    CHECK(events[4].second["content_block"]["name"] == "weather");
    CHECK(events[4].second["content_block"]["id"] == "call_p");
    CHECK(events[5].second["delta"]["partial_json"].get<std::string>() +
              events[6].second["delta"]["partial_json"].get<std::string>() ==
          "{\"city\":\"Paris\"}");
    CHECK(events[8].second["delta"]["stop_reason"] == "tool_use");
    CHECK(events[8].second["usage"]["output_tokens"] == 8);
    // The translation asked for the usage itself: the ledger has it.
    CHECK(json::parse(s.local.requests()[0].body)["stream_options"]["include_usage"] == true);
    auto records = s.records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].record.prompt_tokens == 21);
    CHECK(records[0].record.completion_tokens == 8);
}

TEST_CASE("Messages errors come back in Anthropic's shape", "[dialects]") {
    Setup s;
    auto error_of = [](const Reply& reply) {
        auto body = json::parse(reply.body);
        CHECK(body["type"] == "error");
        return body["error"];
    };
    auto bad = http_post(s.port(), "/v1/messages", R"({"model":"local/llama3","messages":[]})",
                         anthropic_headers);
    CHECK(bad.status == 400);
    CHECK(error_of(bad)["type"] == "invalid_request_error");
    CHECK_THAT(error_of(bad)["message"].get<std::string>(), Contains("max_tokens"));

    s.local.script({answer(
        404,
        R"({"error":{"message":"no model 'x'","type":"invalid_request_error","code":"model_not_found"}})")});
    auto missing = http_post(s.port(), "/v1/messages", message_request().dump(), anthropic_headers);
    CHECK(missing.status == 404);
    CHECK(error_of(missing)["type"] == "not_found_error");

    s.local.script({answer(
        400, R"({"error":{"message":"context too long","type":"invalid_request_error"}})")});
    auto refused = http_post(s.port(), "/v1/messages", message_request().dump(), anthropic_headers);
    CHECK(refused.status == 400);
    CHECK(error_of(refused)["message"] == "context too long");

    s.local.script({answer(200, R"({"not":"a completion"})")});
    auto garbled = http_post(s.port(), "/v1/messages", message_request().dump(), anthropic_headers);
    CHECK(garbled.status == 502);
    CHECK(error_of(garbled)["type"] == "api_error");

    auto get = http_get(s.port(), "/v1/messages");
    CHECK(get.status == 405);
    CHECK(error_of(get)["type"] == "invalid_request_error");
}

TEST_CASE("an agent token in x-api-key is checked, metered and held to its budget",
          "[dialects][governance]") {
    Setup s;
    auto token = s.agent("claude", {0.0005, {}, {}, {}});
    auto none = http_post(s.port(), "/v1/messages", message_request().dump(),
                          {{"x-api-key", "aimo_wrong"}});
    CHECK(none.status == 401);
    CHECK(json::parse(none.body)["error"]["type"] == "authentication_error");

    // 1,000 prompt + 10 completion tokens at 1 and 2 USD per million: 1,020 µUSD, more than the
    // budget of 500 (the reservation was smaller: the upstream's prompt was longer than sent).
    s.local.set_default(
        answer(200, completion({{"role", "assistant"}, {"content", "ok"}}, "stop", 1000, 10)));
    auto first = http_post(s.port(), "/v1/messages", message_request().dump(),
                           {{"x-api-key", token}, {"anthropic-version", "2023-06-01"}});
    REQUIRE(first.status == 200);
    auto again = http_post(s.port(), "/v1/messages", message_request().dump(),
                           {{"Authorization", "Bearer " + token}});
    CHECK(again.status == 402);
    CHECK(json::parse(again.body)["type"] == "error");
    CHECK(json::parse(again.body)["error"]["type"] == "billing_error");
    auto records = s.records();
    REQUIRE_FALSE(records.empty());
    CHECK(records[0].record.agent == "claude");
    CHECK(records[0].record.dialect == "messages");

    auto counted =
        http_post(s.port(), "/v1/messages/count_tokens",
                  R"({"model":"local/llama3","messages":[{"role":"user","content":"abcdefgh"}]})",
                  {{"x-api-key", token}});
    CHECK(counted.status == 200);
    CHECK(json::parse(counted.body)["input_tokens"] == 2);
    auto uncounted = http_post(s.port(), "/v1/messages/count_tokens", R"({"messages":[]})",
                               {{"x-api-key", "aimo_wrong"}});
    CHECK(uncounted.status == 401);
    CHECK(json::parse(uncounted.body)["type"] == "error");
}

TEST_CASE("a cached chat answer serves the same question asked in Messages", "[dialects][cache]") {
    Setup s;
    s.local.set_default(
        answer(200, completion({{"role", "assistant"}, {"content", "Sunny."}}, "stop", 12, 3)));
    auto first = http_post(s.port(), "/v1/messages", message_request().dump(), anthropic_headers);
    CHECK(first.header("x-aimo-cache") == "miss");
    auto again = http_post(s.port(), "/v1/messages", message_request().dump(), anthropic_headers);
    CHECK(again.header("x-aimo-cache") == "hit");
    CHECK(json::parse(again.body)["content"][0]["text"] == "Sunny.");
    auto streamed =
        http_post(s.port(), "/v1/messages", message_request(true).dump(), anthropic_headers);
    CHECK(streamed.header("x-aimo-cache") == "hit");
    auto events = events_of(streamed.body);
    REQUIRE(events.size() >= 4);
    CHECK(events[2].second["delta"]["text"] == "Sunny.");
    CHECK(events.back().first == "message_stop");
    // The chat client asking the same (the translation's chat form) is served from it too.
    auto chat = json::parse(s.local.requests()[0].body);
    chat["model"] = "local/llama3"; // as the client named it, before the provider's own id
    auto direct = http_post(s.port(), "/v1/chat/completions", chat.dump());
    CHECK(direct.header("x-aimo-cache") == "hit");
    CHECK(json::parse(direct.body)["choices"][0]["message"]["content"] == "Sunny.");
    CHECK(s.local.count() == 1);
}

TEST_CASE("a Responses request is answered from a chat upstream, whole and streamed",
          "[dialects]") {
    Setup s;
    json request = {{"model", "local/llama3"},
                    {"instructions", "Be brief."},
                    {"input", "Weather in Paris?"},
                    {"max_output_tokens", 50}};
    s.local.script(
        {answer(200, completion({{"role", "assistant"}, {"content", "Sunny."}}, "stop", 9, 2))});
    auto whole = http_post(s.port(), "/v1/responses", request.dump());
    REQUIRE(whole.status == 200);
    auto response = json::parse(whole.body);
    CHECK(response["object"] == "response");
    CHECK(response["status"] == "completed");
    CHECK(response["output"][0]["content"][0]["text"] == "Sunny.");
    CHECK(response["usage"]["total_tokens"] == 11);
    auto chat = json::parse(s.local.requests()[0].body);
    CHECK(s.local.requests()[0].path == "/v1/chat/completions");
    CHECK(chat["max_tokens"] == 50);

    Scripted streamed;
    streamed.sse = tool_stream();
    s.local.script({streamed});
    request["stream"] = true;
    auto reply = http_post(s.port(), "/v1/responses", request.dump());
    REQUIRE(reply.status == 200);
    auto events = events_of(reply.body);
    REQUIRE_FALSE(events.empty());
    CHECK(events.front().first == "response.created");
    CHECK(events.back().first == "response.completed");
    const auto& done = events.back().second["response"];
    CHECK(done["output"][1]["type"] == "function_call");
    CHECK(done["output"][1]["arguments"] == "{\"city\":\"Paris\"}");
    CHECK(done["usage"]["input_tokens"] == 21);

    auto records = s.records();
    REQUIRE(records.size() == 2);
    CHECK(records[1].record.dialect == "responses");
    CHECK(records[1].record.completion_tokens == 8);

    request["previous_response_id"] = "resp_1";
    auto stateful = http_post(s.port(), "/v1/responses", request.dump());
    CHECK(stateful.status == 400);
    CHECK_THAT(json::parse(stateful.body)["error"]["message"].get<std::string>(),
               Contains("aimo keeps no responses"));
}

TEST_CASE("a provider with responses = true gets /v1/responses unchanged", "[dialects]") {
    Setup s("responses = true");
    std::string body = R"({"model":"local/llama3","input":"hi","previous_response_id":"resp_9"})";
    s.local.script({answer(200, R"({"object":"response","id":"resp_10","output":[]})")});
    auto reply = http_post(s.port(), "/v1/responses", body);
    CHECK(reply.status == 200);
    CHECK(json::parse(reply.body)["id"] == "resp_10");
    auto seen = s.local.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].path == "/v1/responses");
    CHECK(json::parse(seen[0].body)["previous_response_id"] == "resp_9");
}

TEST_CASE("an OpenClaw gateway provider gets its token, the client's x-openclaw headers and "
          "/v1/responses as they are",
          "[dialects]") {
    Setup s("kind = \"openclaw\"\napi_key_env = \"OPENCLAW_GATEWAY_TOKEN\"",
            {{"OPENCLAW_GATEWAY_TOKEN", "gw-secret"}});
    s.local.script(
        {answer(200, completion({{"role", "assistant"}, {"content", "hi"}}, "stop", 3, 1)),
         answer(200, R"({"object":"response","id":"resp_1","output":[]})")});
    httplib::Headers headers = {{"Authorization", "Bearer aimo-local"},
                                {"x-openclaw-agent-id", "main"},
                                {"x-openclaw-session-key", "s-42"}};
    auto chat = http_post(s.port(), "/v1/chat/completions",
                          R"({"model":"local/llama3","messages":[{"role":"user","content":"hi"}]})",
                          headers);
    CHECK(chat.status == 200);
    auto responses =
        http_post(s.port(), "/v1/responses", R"({"model":"local/llama3","input":"hi"})", headers);
    CHECK(responses.status == 200);
    CHECK(json::parse(responses.body)["id"] == "resp_1");

    auto seen = s.local.requests();
    REQUIRE(seen.size() == 2);
    CHECK(seen[1].path == "/v1/responses");
    for (const auto& request : seen) {
        auto header = [&](const char* name) {
            auto found = request.headers.find(name);
            return found == request.headers.end() ? std::string() : found->second;
        };
        CHECK(header("Authorization") == "Bearer gw-secret"); // never the client's key
        CHECK(header("x-openclaw-agent-id") == "main");
        CHECK(header("x-openclaw-session-key") == "s-42");
    }
}
