#include "core/fs.hpp"

#include "core/error.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace aimo::core {

namespace {
[[noreturn]] void throw_io(const std::string& what, const std::filesystem::path& path, int err) {
    throw Error(err == ENOENT ? ErrorKind::not_found : ErrorKind::io,
                what + " " + path.string() + ": " + std::strerror(err),
                err == EACCES ? "check the file's owner and permissions" : "");
}
} // namespace

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw_io("cannot read", path, errno);
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    if (in.bad()) {
        throw_io("cannot read", path, errno);
    }
    return buffer.str();
}

std::optional<std::string> read_file_if_exists(const std::filesystem::path& path) {
    try {
        return read_file(path);
    } catch (const Error& e) {
        if (e.kind() == ErrorKind::not_found) {
            return std::nullopt;
        }
        throw;
    }
}

void create_directories(const std::filesystem::path& dir, mode_t mode) {
    if (dir.empty() || std::filesystem::is_directory(dir)) {
        return;
    }
    create_directories(dir.parent_path(), mode);
    if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
        throw_io("cannot create directory", dir, errno);
    }
}

void write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode) {
    auto parent = path.parent_path();
    create_directories(parent, 0700);
    std::string temp = (parent.empty() ? std::filesystem::path(".") : parent).string() + "/." +
                       path.filename().string() + ".tmp-XXXXXX";
    int fd = ::mkstemp(temp.data());
    if (fd < 0) {
        throw_io("cannot create a temporary file next to", path, errno);
    }
    auto fail = [&](const char* what) {
        int err = errno;
        ::close(fd);
        ::unlink(temp.c_str());
        throw_io(what, path, err);
    };
    if (::fchmod(fd, mode) != 0) {
        fail("cannot set permissions for");
    }
    const char* data = content.data();
    size_t left = content.size();
    while (left > 0) {
        ssize_t n = ::write(fd, data, left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            fail("cannot write");
        }
        data += n;
        left -= static_cast<size_t>(n);
    }
    if (::fsync(fd) != 0) {
        fail("cannot flush");
    }
    ::close(fd);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(temp.c_str());
        throw_io("cannot replace", path, err);
    }
}

mode_t file_mode(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        throw_io("cannot inspect", path, errno);
    }
    return st.st_mode & 07777;
}

} // namespace aimo::core
