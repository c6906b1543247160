#include "mutate.hpp"
#include "openai/usage.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <random>

using namespace aimo;

namespace {
// What the answer means, read with a general parser: the reference the scanner must agree with.
openai::TokenUsage reference_usage(std::string_view text, bool* choices_empty = nullptr) {
    auto json = nlohmann::json::parse(text, nullptr, false);
    openai::TokenUsage out;
    if (!json.is_object()) {
        return out;
    }
    if (choices_empty != nullptr) {
        auto it = json.find("choices");
        *choices_empty = it != json.end() && it->is_array() && it->empty();
    }
    const nlohmann::json* usage = nullptr;
    if (auto it = json.find("usage"); it != json.end() && it->is_object()) {
        usage = &*it;
    } else {
        for (const char* holder : {"response", "message"}) { // message: Anthropic's
            if (auto r = json.find(holder); !usage && r != json.end() && r->is_object()) {
                if (auto u = r->find("usage"); u != r->end() && u->is_object()) {
                    usage = &*u;
                }
            }
        }
    }
    if (usage == nullptr) {
        return out;
    }
    auto number = [&](const char* a, const char* b) -> int64_t {
        for (const char* key : {a, b}) {
            if (auto it = usage->find(key); it != usage->end() && it->is_number_integer()) {
                return std::max<int64_t>(0, it->get<int64_t>());
            }
        }
        return 0;
    };
    out.prompt = number("prompt_tokens", "input_tokens");
    if (!usage->contains("prompt_tokens") || !(*usage)["prompt_tokens"].is_number_integer()) {
        out.prompt += number("cache_read_input_tokens", "cache_read_input_tokens") +
                      number("cache_creation_input_tokens", "cache_creation_input_tokens");
    }
    out.completion = number("completion_tokens", "output_tokens");
    out.has_prompt = usage->contains("prompt_tokens") || usage->contains("input_tokens") ||
                     usage->contains("total_tokens");
    out.found =
        out.has_prompt || usage->contains("completion_tokens") || usage->contains("output_tokens");
    return out;
}

void check_same(const openai::TokenUsage& got, const openai::TokenUsage& want) {
    CHECK(got.found == want.found);
    CHECK(got.has_prompt == want.has_prompt);
    CHECK(got.prompt == want.prompt);
    CHECK(got.completion == want.completion);
}
} // namespace

TEST_CASE("usage is read from chat, completion and Responses answers", "[usage]") {
    auto chat = openai::usage_from_json(
        R"({"id":"x","choices":[{"message":{"content":"\"usage\": {\"prompt_tokens\": 99}"}}],
            "usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,
                     "prompt_tokens_details":{"cached_tokens":3}}})");
    CHECK(chat.found);
    CHECK(chat.prompt == 12);
    CHECK(chat.completion == 5);

    auto responses = openai::usage_from_json(
        R"({"type":"response.completed","response":{"usage":{"input_tokens":7,"output_tokens":2}}})");
    CHECK(responses.found);
    CHECK(responses.prompt == 7);
    CHECK(responses.completion == 2);

    auto embeddings = openai::usage_from_json(R"({"usage":{"prompt_tokens":4,"total_tokens":4}})");
    CHECK(embeddings.found);
    CHECK(embeddings.prompt == 4);
    CHECK(embeddings.completion == 0);

    // Counts past int64 are nothing; past uint64 they are not integers, so the other name counts.
    auto huge = openai::usage_from_json(
        R"({"usage":{"prompt_tokens":18446744073709551615,"completion_tokens":)"
        R"(99999999999999999999,"output_tokens":3}})");
    CHECK(huge.found);
    CHECK(huge.prompt == 0);
    CHECK(huge.completion == 3);
    CHECK(reference_usage(R"({"usage":{"prompt_tokens":18446744073709551615,"completion_tokens":)"
                          R"(99999999999999999999,"output_tokens":3}})")
              .completion == 3);

    for (const char* none : {R"({"usage":null})", R"({"usage":{"prompt_tokens":3})",
                             R"({"usage":{}})", R"(["usage"])", R"({"x":"usage"})"}) {
        CAPTURE(none);
        CHECK_FALSE(openai::usage_from_json(none).found);
    }
}

TEST_CASE("a usage-only stream event is told apart from one that also carries choices", "[usage]") {
    auto last = openai::usage_from_event(
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\r\n");
    CHECK(last.usage_only);
    CHECK(last.usage.prompt == 3);
    CHECK(last.usage.completion == 4);

    auto split = openai::usage_from_event(
        "event: x\ndata: {\"choices\":[{\"delta\":{}}],\ndata: \"usage\":{\"prompt_tokens\":1}}\n");
    CHECK_FALSE(split.usage_only);
    CHECK(split.usage.found);
    CHECK(split.usage.prompt == 1);

    auto null_usage = openai::usage_from_event("data: {\"choices\":[],\"usage\":null}\n");
    CHECK_FALSE(null_usage.usage_only);
    CHECK_FALSE(null_usage.usage.found);
}

TEST_CASE("Anthropic's usage is read from its answer and from its stream's events", "[usage]") {
    auto whole = openai::usage_from_json(
        R"({"type":"message","usage":{"input_tokens":10,"cache_read_input_tokens":90,)"
        R"("cache_creation_input_tokens":5,"output_tokens":7}})");
    CHECK(whole.found);
    CHECK(whole.prompt == 105);
    CHECK(whole.completion == 7);
    auto start = openai::usage_from_event(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\","
        "\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n");
    CHECK(start.usage.has_prompt);
    CHECK(start.usage.prompt == 25);
    auto delta = openai::usage_from_event("event: message_delta\ndata: {\"type\":\"message_delta\","
                                          "\"usage\":{\"output_tokens\":15}}\n");
    CHECK(delta.usage.found);
    CHECK_FALSE(delta.usage.has_prompt);
    CHECK(delta.usage.completion == 15);
    CHECK_FALSE(delta.usage_only); // only chat's usage-only chunk is aimo's to drop
}

TEST_CASE("the usage scan agrees with a reference parser on mutated answers", "[usage]") {
    const std::string seed =
        R"({"id":"c","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":-5,)"
        R"("total_tokens":7.0,"input_tokens":3,"output_tokens":1e2,"d":{"prompt_tokens":1}},)"
        R"("response":{"usage":{"input_tokens":8,"output_tokens":9,"cache_read_input_tokens":4}},)"
        R"("s":"\u00e9 \"usage\""})";
    std::mt19937 random(4242);
    const std::string alphabet = "{}[]\",:.-+eE0123456789tfnrul\\ \x01\xc3\xa9";
    for (int i = 0; i < 20000; ++i) {
        std::string text = test::mutate(seed, random, alphabet);
        CAPTURE(text);
        check_same(openai::usage_from_json(text), reference_usage(text));
        bool choices_empty = false;
        auto want = reference_usage(text, &choices_empty);
        auto event = openai::usage_from_event("data: " + text + "\n");
        check_same(event.usage, want);
        REQUIRE(event.usage_only == (want.found && choices_empty));
    }
}
