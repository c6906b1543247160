#include "openai/request.hpp"

#include "core/json.hpp"
#include "core/json_scan.hpp"
#include "openai/usage.hpp"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace aimo::openai {

namespace {
// Picks the few top-level fields the proxy needs out of a body the scanner validates. The
// request body is on the hot path: this runs several times faster than a general parser and
// allocates nothing for the rest.
class BodyFields {
public:
    enum Slot { none, root, model, stream, stream_options, include_usage, max_tokens, temperature };

    BodyFields(std::string_view text, BodySummary& out) : m_begin(text.data()), m_out(out) {}

    int key(int slot, int depth, std::string_view key) {
        if (slot == root) {
            if (key == "model") {
                return model;
            }
            if (key == "stream") {
                return stream;
            }
            if (key == "stream_options") {
                m_out.has_stream_options = true;
                return stream_options;
            }
            if (key == "temperature") {
                return temperature;
            }
            if (key == "max_tokens" || key == "max_completion_tokens" ||
                key == "max_output_tokens") {
                return max_tokens;
            }
        } else if (slot == stream_options && depth == 2 && key == "include_usage") {
            return include_usage;
        }
        return none;
    }

    void object(int slot, int depth) {
        if (slot == root && depth == 1) {
            m_out.is_object = true;
        }
    }

    void array(int, bool) {}

    void string(int slot, std::string_view token) {
        if (slot == max_tokens) {
            note_limit(token);
            return;
        }
        if (slot != model) {
            return;
        }
        m_out.model = token.find('\\') == std::string_view::npos
                          ? std::string(token.substr(1, token.size() - 2))
                          : nlohmann::json::parse(token).get<std::string>();
        m_out.model_begin = static_cast<size_t>(token.data() - m_begin);
        m_out.model_end = m_out.model_begin + token.size();
        m_out.has_model = true;
    }

    void literal(int slot, std::string_view token) {
        if (token[0] == 't' && slot == stream) {
            m_out.stream = true;
        } else if (token[0] == 't' && slot == include_usage) {
            m_out.include_usage = true;
        } else if (slot == max_tokens) {
            note_limit(token);
        }
    }

    void number(int slot, std::string_view token) {
        if (slot == temperature) {
            m_out.temperature = std::strtod(std::string(token).c_str(), nullptr);
            return;
        }
        if (slot != max_tokens) {
            return;
        }
        note_limit(token);
        double value = std::strtod(std::string(token).c_str(), nullptr);
        if (value >= 0) {
            auto limit = static_cast<int64_t>(std::min(value, 1e12));
            m_out.max_tokens = std::max(m_out.max_tokens, limit);
        }
    }

private:
    void note_limit(std::string_view token) {
        auto begin = static_cast<size_t>(token.data() - m_begin);
        m_out.max_tokens_at.emplace_back(begin, begin + token.size());
    }

    const char* m_begin;
    BodySummary& m_out;
};
} // namespace

BodySummary scan_body(std::string_view body) {
    BodySummary summary;
    BodyFields fields(body, summary);
    core::JsonScan<BodyFields> scan(body, fields);
    summary.valid_json = scan.run(BodyFields::root);
    if (!summary.valid_json) {
        summary = BodySummary{};
        summary.error = scan.error();
    } else if (summary.is_object) {
        summary.object_begin = body.find('{');
    }
    return summary;
}

std::string with_max_tokens(std::string_view body, const BodySummary& summary, int64_t limit,
                            std::string_view field) {
    std::string number = std::to_string(limit);
    std::string out;
    out.reserve(body.size() + field.size() + number.size() + 8);
    if (summary.max_tokens_at.empty()) {
        size_t after = summary.object_begin + 1;
        out.append(body.substr(0, after));
        out.append("\"").append(field).append("\":").append(number);
        // An empty object gets no comma: {"max_tokens":N}
        size_t next = body.find_first_not_of(" \t\r\n", after);
        out.append(next != std::string_view::npos && body[next] == '}' ? "" : ",");
        out.append(body.substr(after));
        return out;
    }
    auto ranges = summary.max_tokens_at;
    std::sort(ranges.begin(), ranges.end());
    size_t at = 0;
    for (const auto& [begin, end] : ranges) {
        out.append(body.substr(at, begin - at));
        auto token = body.substr(begin, end - begin);
        bool small_number = token.find_first_not_of("0123456789") == std::string_view::npos &&
                            token.size() < 13 && std::stoll(std::string(token)) <= limit;
        out.append(small_number ? token : std::string_view(number));
        at = end;
    }
    out.append(body.substr(at));
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

std::string with_model(std::string_view body, size_t begin, size_t end, std::string_view model) {
    std::string out;
    out.reserve(body.size() + model.size());
    out.append(body.substr(0, begin));
    out.append(core::json_text(nlohmann::json(model)));
    out.append(body.substr(end));
    return out;
}

bool is_usage_only_event(std::string_view event) {
    return usage_from_event(event).usage_only;
}

} // namespace aimo::openai
