#include "clients/codex.hpp"

#include "core/error.hpp"
#include "core/fs.hpp"
#include "core/paths.hpp"

#include <fmt/format.h>

namespace aimo::clients {

using core::Error;
using core::ErrorKind;

namespace {
constexpr std::string_view marker = "# Written by 'aimo connect codex'";

// A TOML basic string: quotes, backslashes and control characters escaped.
std::string toml_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            out += fmt::format("\\u{:04X}", static_cast<unsigned char>(c));
        } else {
            out += c;
        }
    }
    return out + "\"";
}

bool written_by_aimo(const std::string& text) {
    return text.rfind(marker, 0) == 0;
}

[[noreturn]] void refuse_foreign(const std::filesystem::path& path, const std::string& profile) {
    throw Error(ErrorKind::already_exists,
                fmt::format("{} exists and was not written by aimo, so aimo leaves it alone",
                            path.string()),
                fmt::format("pick another name with --profile (not '{}'), or move that file away",
                            profile));
}
} // namespace

std::filesystem::path codex_profile_path(const core::Context& ctx, const std::string& profile) {
    bool valid = !profile.empty() && profile.size() <= 64;
    for (char c : profile) {
        valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
    }
    if (!valid) {
        throw Error(ErrorKind::usage,
                    fmt::format("--profile '{}' is not a name Codex accepts", profile),
                    "use letters, digits, '-' and '_' (at most 64)");
    }
    std::filesystem::path home;
    if (auto dir = ctx.getenv("CODEX_HOME"); dir && !dir->empty()) {
        home = *dir;
    } else {
        home = core::home_dir(ctx) / ".codex";
    }
    return home / (profile + ".config.toml");
}

std::string codex_profile(const ClientSetup& setup, const std::string& profile) {
    return fmt::format("{}; 'aimo connect codex --disconnect' removes it.\n"
                       "# Use it with: codex --profile {}\n"
                       "model = {}\n"
                       "model_provider = {}\n"
                       "\n"
                       "[model_providers.{}]\n"
                       "name = \"aimo\"\n"
                       "base_url = {}\n"
                       "wire_api = \"responses\"\n"
                       "experimental_bearer_token = {}\n",
                       marker, profile, toml_string(setup.model), toml_string(profile), profile,
                       toml_string(setup.proxy_root + "/v1"), toml_string(setup.api_key));
}

ClientReport connect_codex(const core::Context& ctx, const ClientSetup& setup,
                           const std::string& profile, bool write) {
    ClientReport report;
    report.path = codex_profile_path(ctx, profile);
    report.content = codex_profile(setup, profile);
    auto text = core::read_file_if_exists(report.path);
    if (text && !written_by_aimo(*text)) {
        refuse_foreign(report.path, profile);
    }
    if (text && *text == report.content) {
        return report;
    }
    report.changes.push_back(fmt::format("{} profile '{}': model {} at {}/v1",
                                         text ? "updated" : "added", profile, setup.model,
                                         setup.proxy_root));
    if (write) {
        core::write_file_atomic(report.path, report.content, 0600);
        report.written = true;
    }
    return report;
}

ClientReport disconnect_codex(const core::Context& ctx, const std::string& profile) {
    ClientReport report;
    report.path = codex_profile_path(ctx, profile);
    auto text = core::read_file_if_exists(report.path);
    if (!text) {
        return report;
    }
    if (!written_by_aimo(*text)) {
        refuse_foreign(report.path, profile);
    }
    std::error_code error;
    if (!std::filesystem::remove(report.path, error) && error) {
        throw Error(ErrorKind::io,
                    fmt::format("cannot remove {}: {}", report.path.string(), error.message()),
                    "check the directory's permissions");
    }
    report.changes.push_back(fmt::format("removed profile '{}'", profile));
    report.written = true;
    return report;
}

} // namespace aimo::clients
