// The cache's pure parts: keys, the byte budget, the stream assembler and its replay, and the
// [cache] section of config.toml, and a new cache file opened by several instances at once.
#include "cache/file.hpp"
#include "cache/key.hpp"
#include "cache/store.hpp"
#include "config/file.hpp"
#include "core/error.hpp"
#include "openai/completion.hpp"
#include "temp_dir.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

using namespace aimo;
using Catch::Matchers::Contains;
using nlohmann::json;

TEST_CASE("a cache key ignores member order, whitespace, stream, stream_options and user",
          "[cache][key]") {
    auto key = [](const std::string& body, std::string_view space = "a") {
        return cache::request_key(body, "local/llama3", space, false);
    };
    auto base = key(R"({"model":"m","temperature":0,"messages":[{"role":"user","content":"hi"}]})");
    REQUIRE(base.cacheable);
    CHECK(base.exact ==
          key(R"({ "messages": [ {"content":"hi", "role":"user"} ], "temperature": 0, "model": "m",
                  "stream": true, "stream_options": {"include_usage": true}, "user": "u1" })")
              .exact);
    CHECK(
        base.exact !=
        key(R"({"model":"m","temperature":0,"messages":[{"role":"user","content":"hi!"}]})").exact);
    CHECK(base.exact !=
          key(R"({"model":"m","temperature":0,"messages":[{"role":"user","content":"hi"}]})", "b")
              .exact);
    CHECK(base.last_user == "hi");
    CHECK_FALSE(base.context.empty());
    CHECK_FALSE(base.length_ok);
    CHECK(key(R"({"model":"m","temperature":0,"max_tokens":5,"messages":[]})").length_ok);
    // Requests that sample, or ask for several choices or logprobs, are not cacheable.
    CHECK_FALSE(key(R"({"model":"m","messages":[]})").cacheable);
    CHECK_FALSE(key(R"({"model":"m","temperature":0.2,"messages":[]})").cacheable);
    CHECK_FALSE(key(R"({"model":"m","temperature":0,"n":2,"messages":[]})").cacheable);
    CHECK_FALSE(key(R"({"model":"m","temperature":0,"logprobs":true,"messages":[]})").cacheable);
    CHECK(cache::request_key(R"({"model":"m","messages":[]})", "r", "a", true).cacheable);
}

TEST_CASE("the store keeps to its byte budget, evicting the least recently used", "[cache]") {
    auto entry = [](const std::string& key, size_t size) {
        auto e = std::make_shared<cache::Entry>();
        e->key = key;
        e->space = "a";
        e->completion = std::string(size, 'x');
        e->created = 100;
        return e;
    };
    size_t one = entry("k0", 1000)->bytes();
    cache::Store store(one * 3, 0);
    CHECK(store.put(entry("k1", 1000)).empty());
    CHECK(store.put(entry("k2", 1000)).empty());
    CHECK(store.put(entry("k3", 1000)).empty());
    CHECK(store.find("k1", 100)); // k1 is now the most recent; k2 the least
    auto evicted = store.put(entry("k4", 1000));
    CHECK(evicted == std::vector<std::string>{"k2"});
    CHECK_FALSE(store.find("k2", 100));
    CHECK(store.find("k1", 100));
    CHECK(store.totals().entries == 3);
    CHECK(store.totals().bytes <= store.max_bytes());
    // An entry larger than the budget is not stored.
    CHECK(store.put(entry("huge", one * 4)) == std::vector<std::string>{"huge"});
    CHECK(store.clear(std::string("a")) == 3);
    CHECK(store.totals().bytes == 0);
}

TEST_CASE("entries expire by their age", "[cache]") {
    cache::Store store(1 << 20, 60);
    auto e = std::make_shared<cache::Entry>();
    e->key = "k";
    e->created = 1000;
    store.put(e);
    CHECK(store.find("k", 1059));
    CHECK_FALSE(store.find("k", 1060));
    CHECK(store.totals().entries == 0);
}

TEST_CASE("a stream's chunks add up to one completion, and replay as a stream again",
          "[cache][openai]") {
    openai::StreamAssembler assembler;
    auto chunk = [](json delta, json finish = nullptr) {
        return json{{"id", "c1"},
                    {"object", "chat.completion.chunk"},
                    {"created", 5},
                    {"model", "m"},
                    {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}}
            .dump();
    };
    assembler.add(chunk({{"role", "assistant"}, {"content", ""}}));
    assembler.add(chunk({{"reasoning_content", "think "}}));
    assembler.add(chunk({{"reasoning_content", "hard"}}));
    assembler.add(chunk({{"content", "Hel"}}));
    assembler.add(chunk({{"content", "lo"}}));
    assembler.add(chunk({{"tool_calls",
                          {{{"index", 0},
                            {"id", "t1"},
                            {"function", {{"name", "f"}, {"arguments", "{\"a\""}}}}}}}));
    assembler.add(chunk({{"tool_calls", {{{"index", 0}, {"function", {{"arguments", ":1}"}}}}}}}));
    assembler.add(chunk(json::object(), "tool_calls"));
    CHECK_FALSE(assembler.complete()); // no [DONE] yet
    assembler.add("[DONE]");
    REQUIRE(assembler.complete());
    auto done = assembler.completion();
    const auto& message = done["choices"][0]["message"];
    CHECK(message["content"] == "Hello");
    CHECK(message["reasoning_content"] == "think hard");
    CHECK(message["tool_calls"][0]["function"]["arguments"] == "{\"a\":1}");
    CHECK(done["choices"][0]["finish_reason"] == "tool_calls");
    CHECK(openai::finished_naturally(done, false));

    // Replayed, and assembled again: the same completion.
    openai::StreamAssembler again;
    for (const auto& data : openai::completion_events(done, true)) {
        again.add(data);
    }
    REQUIRE(again.complete());
    CHECK(again.completion()["choices"] == done["choices"]);

    openai::StreamAssembler broken;
    broken.add(chunk({{"content", "x"}}, "stop"));
    broken.add(R"({"error":{"message":"upstream died"}})");
    broken.add("[DONE]");
    CHECK_FALSE(broken.complete());
    CHECK_FALSE(openai::finished_naturally(json::parse(R"({"choices":[{"finish_reason":"length",
        "message":{"content":"x"}}]})"),
                                           false));
}

TEST_CASE("[cache] in config.toml is read and checked", "[cache][config]") {
    auto read = [](const std::string& text) {
        return config::ConfigFile::parse(text, "config.toml", "/tmp").cache();
    };
    auto defaults = read("");
    CHECK(defaults.mode == cache::Mode::exact);
    CHECK(defaults.ttl_seconds == 3600);
    CHECK_FALSE(defaults.sampled);
    auto set = read("[cache]\nmode = \"semantic\"\nembeddings = \"ollama/nomic-embed-text\"\n"
                    "ttl = \"30m\"\nmax_bytes = \"16MiB\"\nnamespace = \"shared\"\n"
                    "threshold = 0.9\nsampled = true\n");
    CHECK(set.mode == cache::Mode::semantic);
    CHECK(set.ttl_seconds == 1800);
    CHECK(set.max_bytes == 16u << 20);
    CHECK(set.shared);
    CHECK(set.sampled);
    CHECK(set.threshold == Approx(0.9));
    auto fails = [&](const std::string& text, const std::string& message) {
        try {
            read(text);
            FAIL("accepted: " << text);
        } catch (const core::Error& e) {
            CHECK_THAT(std::string(e.what()), Contains(message));
            CHECK_THAT(std::string(e.what()), Contains("config.toml:"));
        }
    };
    fails("[cache]\nmode = \"fuzzy\"\n", "unknown mode");
    fails("[cache]\nmode = \"semantic\"\n", "needs an embeddings model");
    fails("[cache]\nttl = \"soon\"\n", "cannot read 'ttl'");
    fails("[cache]\nthreshold = 1.5\n", "'threshold'");
    fails("[cache]\nnamespace = \"team\"\n", "unknown namespace");
    fails("[cache]\ncolour = 1\n", "unknown key 'colour'");
}

TEST_CASE("instances that open a new cache file at once share it, none discards it", "[cache]") {
    test::TempDir dir;
    auto path = dir / "cache.db";
    std::atomic<int> warnings{0};
    std::vector<std::unique_ptr<cache::CacheFile>> files(6);
    std::vector<std::thread> threads;
    for (auto& file : files) {
        threads.emplace_back([&] {
            file =
                std::make_unique<cache::CacheFile>(path, [&](const std::string&) { ++warnings; });
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    CHECK(warnings == 0);
    cache::Entry entry;
    entry.key = "k";
    entry.space = "s";
    entry.completion = "{}";
    files[0]->put(std::make_shared<const cache::Entry>(entry));
    files[0]->flush();
    CHECK(files[5]->load(0, 0, 1 << 20).size() == 1);
}
