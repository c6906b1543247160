#pragma once

#include "config/config.hpp"
#include "core/context.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace aimo::doctor {

enum class Status { pass, warn, fail };

/// "PASS", "WARN" or "FAIL".
std::string_view to_string(Status status);

/// One named check: what was found and, unless it passed, the one-line fix.
struct Check {
    std::string name;
    Status status = Status::pass;
    std::string message;
    std::string fix;
};

/// Runs every check in order: keypair, router (reachable, clock), signature (signed balance),
/// the configured [[providers]] (key variable set, model list reachable), the response cache
/// (its settings and file; the semantic mode's embeddings provider), the state server, proxy
/// (answering and being aimo), then OpenClaw's config (found and valid, provider, default model,
/// allowlists, stale registries, read-only flag). Never throws for what it diagnoses. The shared
/// state server, when `state` is set (nothing otherwise): reachable with aimo's schema, and
/// persisting what it holds (appendonly).
std::vector<Check> check_state(const config::Config& config);

std::vector<Check> run_checks(const core::Context& ctx, const config::Config& config,
                              const std::string& provider_id = "aimo");

} // namespace aimo::doctor
