#include "core/error.hpp"
#include "routing/config.hpp"

#include <catch2/catch.hpp>

using namespace aimo;
using namespace aimo::routing;
using Catch::Matchers::Contains;

namespace {
RoutingDefaults defaults() {
    RoutingDefaults d;
    d.router_url = upstream::parse_url("https://beta.aimo.network", "router");
    d.timeouts.connect = std::chrono::seconds(7);
    d.timeouts.read = std::chrono::seconds(90);
    return d;
}

std::optional<std::string> env(std::string_view name) {
    if (name == "OPENAI_API_KEY") {
        return std::string("sk-test");
    }
    return std::nullopt;
}

RoutingConfig parse(const std::string& text) {
    return parse_routing_config(text, "config.toml", defaults(), env);
}

// The error message of parsing `text`.
std::string error_of(const std::string& text) {
    try {
        parse(text);
    } catch (const core::Error& e) {
        CHECK(e.kind() == core::ErrorKind::invalid_input);
        CHECK_FALSE(e.hint().empty());
        return e.what();
    }
    FAIL("no error for: " << text);
    return {};
}
} // namespace

TEST_CASE("no providers means the router alone with one attempt", "[config]") {
    auto config = parse("port = 9000\n");
    CHECK(config.implicit);
    REQUIRE(config.providers.size() == 1);
    CHECK(config.providers[0].name == "aimo");
    CHECK(config.providers[0].kind == ProviderKind::aimo);
    CHECK(config.providers[0].base_url.origin() == "https://beta.aimo.network");
    CHECK(config.providers[0].timeouts.first_byte == std::chrono::seconds(90));
    CHECK(config.retry.attempts == 1);
    CHECK(parse("[retry]\nbackoff_max = 1\n").retry.attempts == 3); // asked for: on
}

TEST_CASE("a full config is read with defaults filled in", "[config]") {
    auto config = parse(R"(
[[providers]]
name = "aimo"
kind = "aimo"

[[providers]]
name = "openai"
base_url = "https://api.openai.com/v1"
api_key_env = "OPENAI_API_KEY"
headers = { "OpenAI-Organization" = "org-1" }
models = ["gpt-4o", "gpt-4o-mini"]
first_byte_timeout = 2.5
total_timeout = 600

[aliases]
cheap = "openai/gpt-4o-mini"

[[routes]]
model = "smart"
targets = ["aimo/deepseek/deepseek-v3.2", "openai/gpt-4o"]

[retry]
attempts = 5
retry_after_max = 10

[breaker]
failures = 3
cooldown = 5
)");
    CHECK_FALSE(config.implicit);
    REQUIRE(config.providers.size() == 2);
    CHECK(config.providers[0].base_url.origin() == "https://beta.aimo.network");
    const auto& openai = config.providers[1];
    CHECK(openai.kind == ProviderKind::openai);
    CHECK(openai.api_key == "sk-test");
    CHECK(openai.headers == core::Headers{{"OpenAI-Organization", "org-1"}});
    CHECK(openai.models == std::vector<std::string>{"gpt-4o", "gpt-4o-mini"});
    CHECK(openai.timeouts.first_byte == std::chrono::milliseconds(2500));
    CHECK(openai.timeouts.idle == std::chrono::seconds(90));
    CHECK(openai.timeouts.connect == std::chrono::seconds(7));
    CHECK(openai.timeouts.total == std::chrono::seconds(600));
    CHECK(config.aliases.at("cheap") == "openai/gpt-4o-mini");
    REQUIRE(config.route("smart") != nullptr);
    CHECK(config.route("smart")->targets[0].provider == "aimo");
    CHECK(config.route("smart")->targets[0].model == "deepseek/deepseek-v3.2");
    CHECK(config.route("smart")->targets[1].name() == "openai/gpt-4o");
    CHECK(config.retry.attempts == 5);
    CHECK(config.retry.retry_after_max == std::chrono::seconds(10));
    CHECK(config.breaker.failures == 3);
    CHECK(config.breaker.cooldown == std::chrono::seconds(5));
}

TEST_CASE("a provider's account limits and its models' own are read", "[config]") {
    auto config = parse("[[providers]]\nname = \"x\"\nbase_url = \"http://h\"\n"
                        "max_in_flight = 8\nrpm = 500\ntpm = 200000\n"
                        "[providers.model_limits.\"gpt-4o\"]\nrpm = 100\nmax_in_flight = 2\n");
    const auto& p = config.providers.at(0);
    CHECK(p.limits.max_in_flight == 8);
    CHECK(p.limits.rpm == 500);
    CHECK(p.limits.tpm == 200000);
    REQUIRE(p.model_limits.count("gpt-4o") == 1);
    CHECK(p.model_limits.at("gpt-4o").rpm == 100);
    CHECK(p.model_limits.at("gpt-4o").max_in_flight == 2);
    CHECK(!p.model_limits.at("gpt-4o").tpm);
    CHECK(!parse("[[providers]]\nname = \"x\"\nbase_url = \"http://h\"\n")
               .providers.at(0)
               .limits.any());
}

TEST_CASE("config errors name the line and column and what to do", "[config]") {
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\nbase_url = \"http://h/v1\"\nkey = 1\n"),
               Contains("config.toml:4:1") && Contains("unknown key 'key' in [[providers]]"));
    CHECK_THAT(error_of("[[providers]]\nbase_url = \"http://h/v1\"\n"), Contains("has no name"));
    CHECK_THAT(error_of("[[providers]]\nname = \"a b\"\nbase_url = \"http://h/v1\"\n"),
               Contains("config.toml:2:8") && Contains("may only hold"));
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\n"), Contains("has no base_url"));
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\nkind = \"azure\"\nbase_url = \"http://h\"\n"),
               Contains("unknown kind 'azure'"));
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\nbase_url = \"ftp://h\"\n"),
               Contains("config.toml:3:12"));
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\nbase_url = \"http://h\"\n"
                        "api_key_env = \"MISSING_KEY\"\n"),
               Contains("config.toml:4:15") && Contains("MISSING_KEY is not set"));
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\nbase_url = \"http://h\"\n"
                        "headers = { Authorization = \"Bearer sk\" }\n"),
               Contains("would put a secret in the file"));
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\nbase_url = \"http://h\"\n"
                        "[[providers]]\nname = \"x\"\nbase_url = \"http://h\"\n"),
               Contains("config.toml:4:1") && Contains("defined twice"));
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\nbase_url = \"http://h\"\n"
                        "first_byte_timeout = -1\n"),
               Contains("out of range"));
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\nbase_url = \"http://h\"\n"
                        "max_in_flight = 0\n"),
               Contains("config.toml:4:17") && Contains("'max_in_flight' must be a whole number"));
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\nbase_url = \"http://h\"\n"
                        "queue_timeout = 0\n"),
               Contains("'queue_timeout' = 0 is out of range"));
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\nbase_url = \"http://h\"\n"
                        "rpm = \"fast\"\n"),
               Contains("config.toml:4:7") && Contains("'rpm' must be a whole number"));
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\nbase_url = \"http://h\"\n"
                        "model_limits = { m = { rpm = 5, burst = 2 } }\n"),
               Contains("unknown key 'burst' in model_limits"));
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\nbase_url = \"http://h\"\n"
                        "model_limits = { m = 5 }\n"),
               Contains("'model_limits.m' must be a table"));
    CHECK_THAT(error_of("[[routes]]\nmodel = \"r\"\ntargets = [\"nope/m\"]\n"),
               Contains("config.toml:3:12") &&
                   Contains("names provider 'nope', which is not configured"));
    CHECK_THAT(error_of("[[routes]]\nmodel = \"r\"\ntargets = []\n"), Contains("no targets"));
    CHECK_THAT(error_of("[aliases]\na = \"b\"\nb = \"c\"\n"),
               Contains("alias 'a' points at another alias"));
    CHECK_THAT(error_of("[retry]\nattempts = 0\n"), Contains("from 1 to 20"));
    CHECK_THAT(error_of("[breaker]\ncooldown = \"soon\"\n"), Contains("number of seconds"));
    CHECK_THAT(error_of("providers = 3\n"), Contains("array of tables"));
    CHECK_THAT(error_of("[retry\n"), Contains("config.toml:1") && Contains("invalid TOML"));
}

TEST_CASE("an OpenClaw gateway is an OpenAI surface with Responses of its own", "[config]") {
    auto config =
        parse("[[providers]]\nname = \"claw\"\nkind = \"openclaw\"\n"
              "base_url = \"http://127.0.0.1:18789/v1\"\napi_key_env = \"OPENAI_API_KEY\"\n"
              "[[providers]]\nname = \"plain\"\nbase_url = \"http://h/v1\"\n");
    const auto& claw = config.providers.at(0);
    CHECK(claw.kind == ProviderKind::openclaw);
    CHECK(kind_name(claw.kind) == "openclaw");
    CHECK(claw.responses);
    CHECK(claw.api_key == "sk-test");
    CHECK_FALSE(config.providers.at(1).responses);
    CHECK_FALSE(parse("[[providers]]\nname = \"claw\"\nkind = \"openclaw\"\n"
                      "base_url = \"http://h/v1\"\nresponses = false\n")
                    .providers.at(0)
                    .responses);
}

TEST_CASE("an Anthropic provider defaults to Anthropic's API and its version", "[config]") {
    auto config = parse("[[providers]]\nname = \"claude\"\nkind = \"anthropic\"\n"
                        "api_key_env = \"OPENAI_API_KEY\"\nanthropic_version = \"2024-01-01\"\n");
    const auto& claude = config.providers.at(0);
    CHECK(claude.kind == ProviderKind::anthropic);
    CHECK(kind_name(claude.kind) == "anthropic");
    CHECK(claude.base_url.origin() + claude.base_url.path == "https://api.anthropic.com/v1");
    CHECK(claude.anthropic_version == "2024-01-01");
    CHECK_THAT(error_of("[[providers]]\nname = \"x\"\nbase_url = \"http://h/v1\"\n"
                        "anthropic_version = \"2023-06-01\"\n"),
               Contains("config.toml:4:21") && Contains("is for kind \"anthropic\""));
}
