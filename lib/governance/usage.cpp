#include "governance/usage.hpp"

#include <nlohmann/json.hpp>

namespace aimo::governance {

namespace {
TokenUsage read_usage(const nlohmann::json& usage) {
    TokenUsage out;
    if (!usage.is_object()) {
        return out;
    }
    auto number = [&](const char* a, const char* b) -> int64_t {
        for (const char* key : {a, b}) {
            if (auto it = usage.find(key); it != usage.end() && it->is_number_integer()) {
                return std::max<int64_t>(0, it->get<int64_t>());
            }
        }
        return 0;
    };
    out.prompt = number("prompt_tokens", "input_tokens");
    out.completion = number("completion_tokens", "output_tokens");
    out.found = usage.contains("prompt_tokens") || usage.contains("input_tokens") ||
                usage.contains("total_tokens");
    return out;
}

TokenUsage usage_of(const nlohmann::json& answer) {
    if (!answer.is_object()) {
        return {};
    }
    if (auto it = answer.find("usage"); it != answer.end() && it->is_object()) {
        return read_usage(*it);
    }
    if (auto it = answer.find("response"); it != answer.end() && it->is_object()) {
        if (auto usage = it->find("usage"); usage != it->end()) {
            return read_usage(*usage);
        }
    }
    return {};
}
} // namespace

TokenUsage usage_from_json(std::string_view body) {
    if (body.find("\"usage\"") == std::string_view::npos) {
        return {};
    }
    return usage_of(nlohmann::json::parse(body, nullptr, false));
}

EventUsage usage_from_event(std::string_view event) {
    EventUsage out;
    if (event.find("\"usage\"") == std::string_view::npos) {
        return out;
    }
    // The event's data lines, joined (SSE allows one JSON split over several).
    std::string data;
    size_t start = 0;
    while (start < event.size()) {
        size_t end = event.find('\n', start);
        auto line = event.substr(start, end == std::string_view::npos ? end : end - start);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.rfind("data:", 0) == 0) {
            line.remove_prefix(5);
            if (!line.empty() && line.front() == ' ') {
                line.remove_prefix(1);
            }
            data += line;
            data += '\n';
        }
        if (end == std::string_view::npos) {
            break;
        }
        start = end + 1;
    }
    auto json = nlohmann::json::parse(data, nullptr, false);
    out.usage = usage_of(json);
    if (out.usage.found && json.contains("choices") && json["choices"].is_array() &&
        json["choices"].empty()) {
        out.usage_only = true;
    }
    return out;
}

std::string with_include_usage(std::string_view body, size_t& shift) {
    static constexpr std::string_view member = R"("stream_options":{"include_usage":true},)";
    size_t brace = body.find('{');
    std::string out;
    out.reserve(body.size() + member.size());
    out.append(body.substr(0, brace + 1));
    // An empty object takes the member without the trailing comma.
    size_t next = body.find_first_not_of(" \t\r\n", brace + 1);
    if (next != std::string_view::npos && body[next] == '}') {
        out.append(member.substr(0, member.size() - 1));
        shift = member.size() - 1;
    } else {
        out.append(member);
        shift = member.size();
    }
    out.append(body.substr(brace + 1));
    return out;
}

double cost_usd(const TokenUsage& usage, double prompt_per_million, double completion_per_million) {
    return (static_cast<double>(usage.prompt) * prompt_per_million +
            static_cast<double>(usage.completion) * completion_per_million) /
           1e6;
}

} // namespace aimo::governance
