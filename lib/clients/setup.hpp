#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace aimo::clients {

/// What a coding agent needs to reach aimo: the proxy's root URL (no /v1), the key it sends
/// (an agent token, or any value when aimo has no agents) and the model it asks for.
struct ClientSetup {
    std::string proxy_root; ///< e.g. http://127.0.0.1:8080
    std::string api_key = "aimo-local";
    std::string model;
};

/// What connecting or disconnecting a client did, or with `write` off would do.
struct ClientReport {
    std::filesystem::path path; ///< the client's file aimo edits
    bool written = false;       ///< false: nothing on disk changed
    std::vector<std::string> changes;
    std::filesystem::path backup; ///< made by this run, else empty
    std::string content;          ///< what belongs in `path` (the file, or its aimo part)
};

} // namespace aimo::clients
