#include "core/error.hpp"
#include "core/settings.hpp"
#include "temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fstream>

using namespace aimo;
using Catch::Matchers::Contains;

namespace {
core::SettingsLayers layers_with(std::map<std::string, std::string> env) {
    core::SettingsLayers layers;
    layers.env = [env](std::string_view name) -> std::optional<std::string> {
        auto it = env.find(std::string(name));
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    layers.defaults = {{"port", "8080"}, {"router_url", "https://beta.aimo.network"}};
    layers.file_path = "/etc/aimo/config.toml";
    return layers;
}
} // namespace

TEST_CASE("settings resolve flag > environment > file > default and say where from", "[settings]") {
    auto layers = layers_with({{"AIMO_PORT", "9000"}, {"AIMO_HOST", "0.0.0.0"}});
    layers.flags = {{"port", "9100"}};
    layers.file = {{"port", "9200"}, {"host", "10.0.0.1"}, {"chain_id", "solana:dev"}};
    auto settings = core::resolve_settings(layers);

    CHECK(settings.get("port").value == "9100");
    CHECK(settings.get("port").source == core::SettingSource::flag);
    CHECK(settings.get("port").origin == "--port");
    CHECK(settings.get("host").value == "0.0.0.0");
    CHECK(settings.get("host").origin == "AIMO_HOST");
    CHECK(settings.get("chain_id").value == "solana:dev");
    CHECK(settings.get("chain_id").source == core::SettingSource::config_file);
    CHECK(settings.get("chain_id").origin == "/etc/aimo/config.toml");
    CHECK(settings.get("router_url").value == "https://beta.aimo.network");
    CHECK(settings.get("router_url").source == core::SettingSource::default_value);
}

TEST_CASE("an empty environment variable counts as unset", "[settings]") {
    auto layers = layers_with({{"AIMO_PORT", ""}});
    CHECK(core::resolve_settings(layers).value("port") == "8080");
}

TEST_CASE("integer settings name their origin when invalid", "[settings]") {
    auto layers = layers_with({{"AIMO_PORT", "80a"}});
    auto settings = core::resolve_settings(layers);
    try {
        settings.get_int("port", 0, 65535);
        FAIL("expected an error");
    } catch (const core::Error& e) {
        CHECK(e.kind() == core::ErrorKind::invalid_input);
        CHECK_THAT(std::string(e.what()), Contains("'80a'") && Contains("AIMO_PORT"));
    }
    layers.flags = {{"port", "70000"}};
    try {
        core::resolve_settings(layers).get_int("port", 0, 65535);
        FAIL("expected an error");
    } catch (const core::Error& e) {
        CHECK(e.kind() == core::ErrorKind::usage);
        CHECK_THAT(std::string(e.what()), Contains("--port"));
    }
    layers.flags = {{"port", "0"}};
    CHECK(core::resolve_settings(layers).get_int("port", 0, 65535) == 0);
}
