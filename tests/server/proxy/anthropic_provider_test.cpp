// A provider of kind anthropic: Messages requests pass through unchanged (but for the model's
// bare id and the provider's own key), metered from Anthropic's usage, whole and streamed.
#include "fake_router.hpp"
#include "fake_upstream.hpp"
#include "governance/ledger.hpp"
#include "http_helpers.hpp"
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
    FakeUpstream claude{"claude", {"claude-x"}};
    FakeUpstream local{"local", {"llama3"}};
    TempDir dir;
    std::unique_ptr<ProxyFixture> proxy;
    Setup() {
        ProxyFixtureOptions o;
        o.config = fmt::format(R"(
[[providers]]
name = "claude"
kind = "anthropic"
base_url = "{}"
api_key_env = "ANTHROPIC_API_KEY"
models = ["claude-x"]
price_in = 3.0
price_out = 15.0

[[providers]]
name = "local"
base_url = "{}"

[[routes]]
model = "mixed"
targets = ["claude/claude-x", "local/llama3"]
)",
                               claude.base_url(), local.base_url());
        o.env = {{"ANTHROPIC_API_KEY", "sk-ant-real"}};
        o.database = dir / "aimo.db";
        proxy = std::make_unique<ProxyFixture>(router.url(), o);
    }
    int port() const { return proxy->port(); }
    std::vector<governance::StoredRecord> records() {
        proxy->flush_ledger();
        return governance::read_records(proxy->db(), 1000);
    }
};

const std::string request_body =
    R"({"model":"claude/claude-x","max_tokens":64,"thinking":{"type":"enabled","budget_tokens":16},)"
    R"("messages":[{"role":"user","content":[{"type":"text","text":"hi","cache_control":)"
    R"({"type":"ephemeral"}}]}]})";

const httplib::Headers client_headers = {{"x-api-key", "aimo-local"},
                                         {"anthropic-version", "2023-06-01"},
                                         {"anthropic-beta", "interleaved-thinking-2025-05-14"}};

Scripted answer(int status, std::string body) {
    Scripted scripted;
    scripted.status = status;
    scripted.body = std::move(body);
    return scripted;
}

std::string event(const std::string& name, const json& data) {
    return "event: " + name + "\ndata: " + data.dump() + "\n\n";
}
} // namespace

TEST_CASE("a Messages request reaches an Anthropic provider as it was sent", "[anthropic]") {
    Setup s;
    std::string message =
        R"({"id":"msg_1","type":"message","role":"assistant","model":"claude-x",)"
        R"("content":[{"type":"thinking","thinking":"hm","signature":"s"},{"type":"text","text":"Hi"}],)"
        R"("stop_reason":"end_turn","usage":{"input_tokens":10,"cache_read_input_tokens":90,)"
        R"("output_tokens":5}})";
    s.claude.script({answer(200, message)});
    auto reply = http_post(s.port(), "/v1/messages", request_body, client_headers);
    REQUIRE(reply.status == 200);
    CHECK(json::parse(reply.body) == json::parse(message)); // thinking blocks and all

    auto seen = s.claude.requests();
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].path == "/v1/messages");
    CHECK(seen[0].header("x-api-key") == "sk-ant-real"); // never the client's key
    CHECK(seen[0].header("Authorization").empty());
    CHECK(seen[0].header("anthropic-version") == "2023-06-01");
    CHECK(seen[0].header("anthropic-beta") == "interleaved-thinking-2025-05-14");
    auto sent = json::parse(seen[0].body);
    auto asked = json::parse(request_body);
    CHECK(sent["model"] == "claude-x");
    sent.erase("model");
    asked.erase("model");
    CHECK(sent == asked);

    auto records = s.records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].record.provider == "claude");
    CHECK(records[0].record.dialect == "messages");
    CHECK(records[0].record.prompt_tokens == 100); // cached input counts as prompt
    CHECK(records[0].record.completion_tokens == 5);
    CHECK(records[0].record.cost_usd > 0);
}

TEST_CASE("an Anthropic provider's stream is relayed as it is and metered from its events",
          "[anthropic]") {
    Setup s;
    Scripted streamed;
    streamed.sse = {
        event("message_start",
              {{"type", "message_start"},
               {"message",
                {{"id", "msg_2"}, {"usage", {{"input_tokens", 25}, {"output_tokens", 1}}}}}}),
        event("content_block_start", {{"type", "content_block_start"},
                                      {"index", 0},
                                      {"content_block", {{"type", "text"}, {"text", ""}}}}),
        event("content_block_delta", {{"type", "content_block_delta"},
                                      {"index", 0},
                                      {"delta", {{"type", "text_delta"}, {"text", "Hello"}}}}),
        event("content_block_stop", {{"type", "content_block_stop"}, {"index", 0}}),
        event("message_delta", {{"type", "message_delta"},
                                {"delta", {{"stop_reason", "end_turn"}}},
                                {"usage", {{"output_tokens", 15}}}}),
        event("message_stop", {{"type", "message_stop"}})};
    s.claude.script({streamed});
    auto body = json::parse(request_body);
    body["stream"] = true;
    auto reply = http_post(s.port(), "/v1/messages", body.dump(), client_headers);
    REQUIRE(reply.status == 200);
    std::string expected;
    for (const auto& e : streamed.sse) {
        expected += e;
    }
    CHECK(reply.body == expected);
    auto records = s.records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].record.prompt_tokens == 25);
    CHECK(records[0].record.completion_tokens == 15);
}

TEST_CASE("errors from and about an Anthropic provider are in Anthropic's shape", "[anthropic]") {
    Setup s;
    std::string overloaded =
        R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})";
    Scripted busy = answer(529, overloaded);
    s.claude.script({busy, busy, busy});
    auto reply = http_post(s.port(), "/v1/messages", request_body, client_headers);
    CHECK(reply.status == 529);
    CHECK(json::parse(reply.body) == json::parse(overloaded));

    // A chat client is told the same error in OpenAI's shape.
    s.claude.script({busy, busy, busy});
    auto chat =
        http_post(s.port(), "/v1/chat/completions",
                  R"({"model":"claude/claude-x","messages":[{"role":"user","content":"hi"}]})");
    CHECK(chat.status == 529);
    CHECK(json::parse(chat.body)["error"]["message"] == "Overloaded");
    CHECK(json::parse(chat.body)["error"]["type"] == "overloaded_error");

    // A route may not mix it with a chat provider.
    auto body = json::parse(request_body);
    body["model"] = "mixed";
    auto mixed = http_post(s.port(), "/v1/messages", body.dump(), client_headers);
    CHECK(mixed.status == 400);
    CHECK(json::parse(mixed.body)["type"] == "error");
    CHECK_THAT(mixed.body, Contains("mixes an Anthropic provider with 'local'"));
    CHECK(s.local.count() == 0);
}

TEST_CASE("a chat client reaches an Anthropic provider, whole and streamed", "[anthropic]") {
    Setup s;
    std::string message =
        R"({"id":"msg_3","type":"message","role":"assistant","model":"claude-x",)"
        R"("content":[{"type":"text","text":"Hi there"}],"stop_reason":"end_turn",)"
        R"("usage":{"input_tokens":7,"output_tokens":3}})";
    Scripted streamed;
    streamed.sse = {
        event("message_start",
              {{"type", "message_start"},
               {"message",
                {{"id", "msg_4"}, {"usage", {{"input_tokens", 8}, {"output_tokens", 1}}}}}}),
        event("content_block_delta", {{"type", "content_block_delta"},
                                      {"index", 0},
                                      {"delta", {{"type", "text_delta"}, {"text", "Hello"}}}}),
        event("message_delta", {{"type", "message_delta"},
                                {"delta", {{"stop_reason", "end_turn"}}},
                                {"usage", {{"output_tokens", 2}}}}),
        event("message_stop", {{"type", "message_stop"}})};
    s.claude.script({answer(200, message), streamed});
    std::string chat =
        R"({"model":"claude/claude-x","messages":[{"role":"system","content":"Be brief."},)"
        R"({"role":"user","content":"hi"}]})";
    auto whole = http_post(s.port(), "/v1/chat/completions", chat);
    REQUIRE(whole.status == 200);
    auto completion = json::parse(whole.body);
    CHECK(completion["object"] == "chat.completion");
    CHECK(completion["choices"][0]["message"]["content"] == "Hi there");
    CHECK(completion["choices"][0]["finish_reason"] == "stop");
    CHECK(completion["usage"]["prompt_tokens"] == 7);

    auto stream_body = json::parse(chat);
    stream_body["stream"] = true;
    auto streamed_reply = http_post(s.port(), "/v1/chat/completions", stream_body.dump());
    REQUIRE(streamed_reply.status == 200);
    CHECK_THAT(streamed_reply.body, Contains(R"("content":"Hello")") &&
                                        Contains(R"("finish_reason":"stop")") &&
                                        Contains("data: [DONE]"));

    auto seen = s.claude.requests();
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].path == "/v1/messages");
    CHECK(seen[0].header("x-api-key") == "sk-ant-real");
    CHECK(seen[0].header("anthropic-version") == "2023-06-01");
    auto sent = json::parse(seen[0].body);
    CHECK(sent["model"] == "claude-x");
    CHECK(sent["system"] == "Be brief.");
    CHECK(sent["max_tokens"] == 4096);
    CHECK(sent["messages"] ==
          json{{{"role", "user"}, {"content", {{{"type", "text"}, {"text", "hi"}}}}}});

    auto records = s.records();
    REQUIRE(records.size() == 2);
    CHECK(records[0].record.dialect.empty()); // the client spoke chat
    CHECK(records[0].record.prompt_tokens == 7);
    CHECK(records[1].record.prompt_tokens == 8);
    CHECK(records[1].record.completion_tokens == 2);
}
