#include "core/error.hpp"
#include "openclaw/edit.hpp"

#include <catch2/catch.hpp>

using namespace aimo;
using openclaw::Json;

namespace {
openclaw::ConnectRequest request() {
    openclaw::ConnectRequest r;
    r.base_url = "http://127.0.0.1:8080/v1";
    r.models = {{"deepseek/deepseek-v3.2", "DeepSeek V3.2", 131072, 8192, false},
                {"openai/gpt-4o-mini", "GPT-4o mini", 128000, 16384, false}};
    return r;
}

Json parse(const char* text) {
    return Json::parse(text);
}
} // namespace

TEST_CASE("an empty config gets the provider and an aimo default model", "[edit]") {
    auto result = openclaw::connect_config(Json::object(), request());
    const auto& provider = result.config["models"]["providers"]["aimo"];
    CHECK(provider["baseUrl"] == "http://127.0.0.1:8080/v1");
    CHECK(provider["apiKey"] == "aimo-local");
    CHECK(provider["api"] == "openai-completions");
    REQUIRE(provider["models"].size() == 2);
    CHECK(provider["models"][0] == parse(R"({"id":"deepseek/deepseek-v3.2","name":"DeepSeek V3.2",
        "reasoning":false,"input":["text"],"contextWindow":131072,"maxTokens":8192})"));
    CHECK(result.config["agents"]["defaults"]["model"]["primary"] == "aimo/deepseek/deepseek-v3.2");
    CHECK(result.primary == "aimo/deepseek/deepseek-v3.2");
    CHECK_FALSE(result.previous_primary);
    CHECK_FALSE(result.config["agents"]["defaults"].contains("models"));
    CHECK_FALSE(result.config["agents"]["defaults"].contains("modelPolicy"));
}

TEST_CASE("other settings, their order and models.mode survive", "[edit]") {
    auto config = parse(R"({"meta":{"v":"2026.9.6"},"gateway":{"token":"${GW}"},
        "models":{"mode":"merge","providers":{"openai":{"baseUrl":"x"}}}})");
    auto result = openclaw::connect_config(config, request());
    auto it = result.config.begin();
    CHECK(it.key() == "meta");
    CHECK((++it).key() == "gateway");
    CHECK(result.config["gateway"]["token"] == "${GW}");
    CHECK(result.config["models"]["mode"] == "merge");
    CHECK(result.config["models"]["providers"]["openai"]["baseUrl"] == "x");
}

TEST_CASE("a string default becomes ours, an object keeps its fallbacks", "[edit]") {
    auto as_string = openclaw::connect_config(
        parse(R"({"agents":{"defaults":{"model":"openai/gpt-4o"}}})"), request());
    CHECK(as_string.config["agents"]["defaults"]["model"] == "aimo/deepseek/deepseek-v3.2");
    CHECK(as_string.previous_primary == std::optional<std::string>("openai/gpt-4o"));

    auto as_object =
        openclaw::connect_config(parse(R"({"agents":{"defaults":{"model":{"primary":"openai/gpt-4o",
                                                "fallbacks":["anthropic/claude"]}}}})"),
                                 request());
    CHECK(as_object.config["agents"]["defaults"]["model"] ==
          parse(R"({"primary":"aimo/deepseek/deepseek-v3.2","fallbacks":["anthropic/claude"]})"));
}

TEST_CASE("the model flag picks the primary, reconnecting keeps the chosen aimo model", "[edit]") {
    auto req = request();
    req.primary = "openai/gpt-4o-mini";
    auto picked = openclaw::connect_config(Json::object(), req);
    CHECK(picked.primary == "aimo/openai/gpt-4o-mini");

    auto again = openclaw::connect_config(picked.config, request());
    CHECK(again.primary == "aimo/openai/gpt-4o-mini");
    CHECK(again.changes.empty());
    CHECK(again.config == picked.config);
}

TEST_CASE("no-default adds the provider only", "[edit]") {
    auto req = request();
    req.set_default = false;
    auto result = openclaw::connect_config(
        parse(R"({"agents":{"defaults":{"model":"openai/gpt-4o"}}})"), req);
    CHECK(result.config["agents"]["defaults"]["model"] == "openai/gpt-4o");
    CHECK(result.config["models"]["providers"].contains("aimo"));
}

TEST_CASE("the main agent's override is updated, onboarded or legacy", "[edit]") {
    auto onboarded = openclaw::connect_config(
        parse(
            R"({"agents":{"entries":{"main":{"model":"openai/gpt-4o"},"other":{"model":"x/y"}}}})"),
        request());
    CHECK(onboarded.config["agents"]["entries"]["main"]["model"] == "aimo/deepseek/deepseek-v3.2");
    CHECK(onboarded.config["agents"]["entries"]["other"]["model"] == "x/y");

    auto legacy =
        openclaw::connect_config(parse(R"({"agents":{"list":[{"id":"helper","model":"x/y"},
                                    {"id":"boss","default":true,"model":{"primary":"x/z"}}]}})"),
                                 request());
    CHECK(legacy.config["agents"]["list"][0]["model"] == "x/y");
    CHECK(legacy.config["agents"]["list"][1]["model"]["primary"] == "aimo/deepseek/deepseek-v3.2");
}

TEST_CASE("allowlists grow only where they already exist and are non-empty", "[edit]") {
    auto with_lists = openclaw::connect_config(
        parse(R"({"agents":{"defaults":{"modelPolicy":{"allow":["openai/gpt-4o"]},
                                        "models":{"openai/gpt-4o":{}}}}})"),
        request());
    const auto& defaults = with_lists.config["agents"]["defaults"];
    CHECK(defaults["modelPolicy"]["allow"] ==
          parse(R"(["openai/gpt-4o","aimo/deepseek/deepseek-v3.2"])"));
    CHECK(defaults["models"].contains("aimo/deepseek/deepseek-v3.2"));

    auto empty_allow = openclaw::connect_config(
        parse(R"({"agents":{"defaults":{"modelPolicy":{"allow":[]}}}})"), request());
    CHECK(empty_allow.config["agents"]["defaults"]["modelPolicy"]["allow"].empty());
}

TEST_CASE("$include in models or agents is refused", "[edit]") {
    CHECK_THROWS_AS(openclaw::refuse_includes(parse(R"({"models":{"$include":"./m.json5"}})"), "f"),
                    core::Error);
    CHECK_THROWS_AS(
        openclaw::refuse_includes(parse(R"({"models":{"providers":{"$include":"p.json5"}}})"), "f"),
        core::Error);
    CHECK_THROWS_AS(openclaw::refuse_includes(parse(R"({"agents":{"$include":"a.json5"}})"), "f"),
                    core::Error);
    CHECK_NOTHROW(openclaw::refuse_includes(parse(R"({"gateway":{"$include":"g.json5"}})"), "f"));
}

TEST_CASE("disconnect removes only aimo and restores the previous primary", "[edit]") {
    auto config = parse(R"({"agents":{"defaults":{"model":{"primary":"openai/gpt-4o",
        "fallbacks":["anthropic/claude"]},"modelPolicy":{"allow":["openai/gpt-4o"]},
        "models":{"openai/gpt-4o":{}}},"entries":{"main":{"model":"openai/gpt-4o"}}},
        "models":{"providers":{"openai":{"baseUrl":"x"}}}})");
    auto connected = openclaw::connect_config(config, request());
    connected.config["agents"]["defaults"]["model"]["fallbacks"].push_back(
        "aimo/openai/gpt-4o-mini");
    auto result = openclaw::disconnect_config(connected.config, "aimo", connected.previous_primary);
    CHECK(result.config == config);

    auto without_previous = openclaw::disconnect_config(connected.config, "aimo", std::nullopt);
    CHECK_FALSE(without_previous.config["agents"]["defaults"]["model"].contains("primary"));
    CHECK(without_previous.config["agents"]["defaults"]["model"]["fallbacks"] ==
          parse(R"(["anthropic/claude"])"));
    CHECK_FALSE(without_previous.config["agents"]["entries"]["main"].contains("model"));
}

TEST_CASE("disconnect handles legacy agents.list and string defaults", "[edit]") {
    auto config = parse(R"({"agents":{"defaults":{"model":"openai/gpt-4o"},
        "list":[{"id":"main","model":"openai/gpt-4o"}]}})");
    auto connected = openclaw::connect_config(config, request());
    CHECK(connected.config["agents"]["list"][0]["model"] == "aimo/deepseek/deepseek-v3.2");
    auto restored =
        openclaw::disconnect_config(connected.config, "aimo", connected.previous_primary);
    CHECK(restored.config["agents"] == config["agents"]);
    auto dropped = openclaw::disconnect_config(connected.config, "aimo", std::nullopt);
    CHECK_FALSE(dropped.config["agents"]["defaults"].contains("model"));
    CHECK_FALSE(dropped.config["agents"]["list"][0].contains("model"));
}
