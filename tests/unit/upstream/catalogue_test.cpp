#include "core/error.hpp"
#include "upstream/catalogue.hpp"

#include <catch2/catch.hpp>

using namespace aimo;
using Catch::Matchers::Contains;

TEST_CASE("catalogues come as data, models or a bare array", "[catalogue]") {
    for (const char* body :
         {R"({"data":[{"id":"a"},{"name":"b"}]})", R"({"models":[{"id":"a"},{"name":"b"}]})",
          R"([{"id":"a"},{"name":"b"}])"}) {
        auto catalogue = upstream::parse_catalogue(body, "router");
        REQUIRE(catalogue.models.size() == 2);
        CHECK(catalogue.models[0].id == "a");
        CHECK(catalogue.models[1].id == "b");
        CHECK(catalogue.find("b") != nullptr);
        CHECK(catalogue.find("c") == nullptr);
    }
}

TEST_CASE("the cheapest provider's per-token price becomes a per-million price", "[catalogue]") {
    auto catalogue = upstream::parse_catalogue(
        R"([{"name":"x/y","providers":[
              {"pricing":{"prompt":"0.000002","completion":"0.000004"},"context_length":8192},
              {"pricing":{"prompt":0.000001,"completion":0.000003}}]}])",
        "router");
    const auto& model = catalogue.models.at(0);
    CHECK(model.prompt_usd_per_million == Approx(1.0));
    CHECK(model.completion_usd_per_million == Approx(3.0));
    CHECK(model.context_length == 8192);
    CHECK(model.object["owned_by"] == "x");
    CHECK(model.object["context_length"] == 8192);
}

TEST_CASE("a body that is not a model list is an upstream error", "[catalogue]") {
    for (const char* body :
         {"<html>", R"({"data":"nope"})", R"([{"display_name":"no id"}])", R"([42])"}) {
        CAPTURE(body);
        CHECK_THROWS_AS(upstream::parse_catalogue(body, "router"), core::Error);
    }
}

TEST_CASE("prices per token or per million tokens are both read as per million", "[catalogue]") {
    auto per_token = upstream::parse_catalogue(
        R"([{"id":"a","pricing":{"prompt":"0.00000027","completion":"0.0000011"}},
            {"id":"free","pricing":{"prompt":"0","completion":"0"}}])",
        "router");
    CHECK(per_token.price_unit == upstream::PriceUnit::per_token);
    CHECK(per_token.models[0].prompt_usd_per_million == Approx(0.27));
    CHECK(per_token.models[0].completion_usd_per_million == Approx(1.1));
    CHECK(per_token.models[1].prompt_usd_per_million == 0);

    auto per_million = upstream::parse_catalogue(
        R"([{"id":"a","pricing":{"prompt":0.27,"completion":1.1}},
            {"id":"b","pricing":{"prompt":15,"completion":75}}])",
        "router");
    CHECK(per_million.price_unit == upstream::PriceUnit::per_million);
    CHECK(per_million.models[0].prompt_usd_per_million == Approx(0.27));
    CHECK(per_million.models[1].completion_usd_per_million == Approx(75));
    CHECK(per_million.warnings.empty());
    CHECK(upstream::to_string(per_million.price_unit) == "USD per million tokens");

    auto none = upstream::parse_catalogue(R"([{"id":"a"}])", "router");
    CHECK(none.price_unit == upstream::PriceUnit::none);
}

TEST_CASE("an implausible price is dropped with a warning, not believed", "[catalogue]") {
    auto catalogue = upstream::parse_catalogue(
        R"([{"id":"sane","pricing":{"prompt":0.27,"completion":1.1}},
            {"id":"typo","pricing":{"prompt":270000,"completion":1.1}}])",
        "router");
    CHECK(catalogue.models[0].prompt_usd_per_million == Approx(0.27));
    CHECK_FALSE(catalogue.models[1].prompt_usd_per_million);
    CHECK_FALSE(catalogue.models[1].completion_usd_per_million);
    REQUIRE(catalogue.warnings.size() == 1);
    CHECK_THAT(catalogue.warnings[0], Contains("typo") && Contains("ignored"));
}
