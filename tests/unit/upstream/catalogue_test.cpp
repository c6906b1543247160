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
