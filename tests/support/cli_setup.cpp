#include "cli_setup.hpp"

#include <fstream>

namespace aimo::test {

void CliSetup::write_config(const std::string& text) const {
    std::filesystem::create_directories(config_file.parent_path());
    auto temp = config_file.string() + ".new";
    std::ofstream(temp) << text;
    std::filesystem::rename(temp, config_file);
}

void CliSetup::write_file(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::trunc) << text;
}

std::vector<std::string> CliSetup::argv(std::vector<std::string> args) const {
    std::vector<std::string> out = {AIMO_BINARY};
    out.insert(out.end(), args.begin(), args.end());
    return out;
}

std::map<std::string, std::string> CliSetup::env() const {
    return {{"HOME", home.path().string()}, {"PATH", "/usr/bin:/bin"}};
}

} // namespace aimo::test
