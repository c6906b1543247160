#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace aimo::core {

/// Reads a whole file; throws Error(not_found) when it does not exist, Error(io) otherwise.
std::string read_file(const std::filesystem::path& path);

/// Reads a whole file, or nullopt when it does not exist; throws Error(io) otherwise.
std::optional<std::string> read_file_if_exists(const std::filesystem::path& path);

/// Creates `dir` and its missing parents; directories this call creates get `mode`.
void create_directories(const std::filesystem::path& dir, mode_t mode);

/// Replaces `path` with `content` atomically: writes a temp file in the same directory with
/// `mode`, fsyncs it and renames it over the target. A crash leaves either the old or the new
/// file, never a mix. Parent directories are created with mode 0700.
void write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode);

/// The permission bits of an existing file.
mode_t file_mode(const std::filesystem::path& path);

} // namespace aimo::core
