#include "ui/owner.hpp"

#include "core/error.hpp"
#include "core/fs.hpp"
#include "crypto/encoding.hpp"
#include "crypto/siwx.hpp"
#include "governance/owner_log.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sodium.h>

namespace aimo::ui {

using core::Error;
using core::ErrorKind;
using nlohmann::json;

OwnerSecret make_owner_secret() {
    unsigned char bytes[32];
    randombytes_buf(bytes, sizeof bytes);
    std::string secret =
        "aimo_owner_" +
        crypto::base58_encode(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
    auto hash = crypto::sha256_hex(secret);
    return {secret, hash};
}

std::optional<std::string> load_owner_secret(const std::filesystem::path& file) {
    auto text = core::read_file_if_exists(file);
    if (!text) {
        return std::nullopt;
    }
    auto hash = text->substr(0, text->find_first_of("\r\n"));
    if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
        throw Error(ErrorKind::invalid_input,
                    fmt::format("{} does not hold an owner secret's hash", file.string()),
                    "delete it; the next start makes a new owner secret and prints it once");
    }
    return hash;
}

void save_owner_secret(const std::filesystem::path& file, const std::string& hash) {
    core::write_file_atomic(file, hash + "\n", 0600);
}

governance::AgentLimits AgentPatch::applied_to(governance::AgentLimits limits) const {
    if (budget_usd) {
        limits.budget_usd = *budget_usd;
    }
    if (rpm) {
        limits.rpm = *rpm;
    }
    if (tpm) {
        limits.tpm = *tpm;
    }
    if (models) {
        limits.models = *models;
    }
    if (weight) {
        limits.weight = *weight;
    }
    return limits;
}

std::string AgentPatch::describe() const {
    json out = json::object();
    auto put = [&out](const char* key, const auto& field) {
        if (field) {
            out[key] = *field ? json(**field) : json(nullptr);
        }
    };
    put("budget_usd", budget_usd);
    put("rpm", rpm);
    put("tpm", tpm);
    if (models) {
        out["models"] = *models;
    }
    if (weight) {
        out["weight"] = *weight;
    }
    return out.dump();
}

namespace {
Error bad_field(std::string_view field, std::string_view what) {
    return Error(ErrorKind::usage, fmt::format("'{}' {}", field, what),
                 "send e.g. {\"name\":\"bot\",\"budget_usd\":5,\"rpm\":60} (null: no limit)");
}

// A limit's value: absent (nullopt), null (a limit removed), or a number of type T.
template <typename T>
std::optional<std::optional<T>> limit_field(const json& body, const char* key) {
    if (!body.contains(key)) {
        return std::nullopt;
    }
    const auto& value = body[key];
    if (value.is_null()) {
        return std::optional<T>();
    }
    if constexpr (std::is_same_v<T, double>) {
        if (value.is_number()) {
            return std::optional<T>(value.get<double>());
        }
        throw bad_field(key, "must be a number of USD or null");
    } else {
        if (value.is_number_integer()) {
            return std::optional<T>(value.get<int64_t>());
        }
        throw bad_field(key, "must be a whole number or null");
    }
}
} // namespace

AgentPatch parse_agent_patch(std::string_view body, std::string* name) {
    auto parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
        throw Error(ErrorKind::usage, "the body is not a JSON object",
                    "send e.g. {\"name\":\"bot\",\"budget_usd\":5} with Content-Type "
                    "application/json");
    }
    for (const auto& [key, value] : parsed.items()) {
        static const char* known[] = {"name", "budget_usd", "rpm", "tpm", "models", "weight"};
        if (std::find(std::begin(known), std::end(known), key) == std::end(known) ||
            (key == "name" && name == nullptr)) {
            throw bad_field(key, "is not a field this action knows");
        }
    }
    if (name != nullptr) {
        if (!parsed.contains("name") || !parsed["name"].is_string()) {
            throw bad_field("name", "must be the new agent's name, a string");
        }
        *name = parsed["name"].get<std::string>();
    }
    AgentPatch patch;
    patch.budget_usd = limit_field<double>(parsed, "budget_usd");
    patch.rpm = limit_field<int64_t>(parsed, "rpm");
    patch.tpm = limit_field<int64_t>(parsed, "tpm");
    if (parsed.contains("models")) {
        const auto& models = parsed["models"];
        patch.models.emplace();
        for (const auto& model : models.is_array() ? models : json::array({nullptr})) {
            if (!model.is_string()) {
                throw bad_field("models", "must be an array of model ids ([] for any)");
            }
            patch.models->push_back(model.get<std::string>());
        }
    }
    if (parsed.contains("weight")) {
        const auto& weight = parsed["weight"];
        if (!weight.is_number_integer() || weight.get<int64_t>() < 1 ||
            weight.get<int64_t>() > 100) {
            throw bad_field("weight", "must be a whole number from 1 to 100");
        }
        patch.weight = weight.get<int>();
    }
    return patch;
}

OwnerDesk::OwnerDesk(std::filesystem::path database, Registry registry, std::string secret_hash,
                     core::Clock clock)
    : m_secret_hash(std::move(secret_hash)), m_clock(std::move(clock)), m_db(database),
      m_registry(registry(m_db)) {}

bool OwnerDesk::accepts(std::string_view presented) const {
    auto hash = crypto::sha256_hex(presented);
    return !presented.empty() && hash.size() == m_secret_hash.size() &&
           sodium_memcmp(hash.data(), m_secret_hash.data(), hash.size()) == 0;
}

void OwnerDesk::record(const std::string& action, const std::string& agent,
                       const std::string& detail, const std::string& origin,
                       const std::string& now) {
    governance::OwnerAction entry;
    entry.time = now;
    entry.action = action;
    entry.agent = agent;
    entry.detail = detail;
    entry.origin = origin;
    governance::record_owner_action(m_db, std::move(entry));
}

std::string OwnerDesk::create(const std::string& name, const AgentPatch& patch,
                              const std::string& origin) {
    std::lock_guard lock(m_mutex);
    auto now = crypto::format_timestamp(m_clock());
    auto token = m_registry->create(name, patch.applied_to({}), now);
    record("create", name, patch.describe(), origin, now);
    return token;
}

void OwnerDesk::update(const std::string& name, const AgentPatch& patch,
                       const std::string& origin) {
    std::lock_guard lock(m_mutex);
    auto now = crypto::format_timestamp(m_clock());
    m_registry->update(name, patch.applied_to(m_registry->get(name).limits));
    record("update", name, patch.describe(), origin, now);
}

void OwnerDesk::revoke(const std::string& name, const std::string& origin) {
    std::lock_guard lock(m_mutex);
    auto now = crypto::format_timestamp(m_clock());
    m_registry->revoke(name, now);
    record("revoke", name, "{}", origin, now);
}

} // namespace aimo::ui
