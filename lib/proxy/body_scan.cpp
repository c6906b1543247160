#include "proxy/body_scan.hpp"

#include "core/json_scan.hpp"

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace aimo::proxy {

namespace {
// Picks the few top-level fields the proxy needs out of a body the scanner validates. The
// request body is on the hot path: this runs several times faster than a general parser and
// allocates nothing for the rest.
class BodyFields {
public:
    enum Slot { none, root, model, stream, stream_options, include_usage, max_tokens };

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

    void literal(int slot, char first) {
        if (first == 't' && slot == stream) {
            m_out.stream = true;
        } else if (first == 't' && slot == include_usage) {
            m_out.include_usage = true;
        }
    }

    void number(int slot, std::string_view token) {
        if (slot != max_tokens) {
            return;
        }
        double value = std::strtod(std::string(token).c_str(), nullptr);
        if (value >= 0 && value < 1e12) {
            m_out.max_tokens = static_cast<int64_t>(value);
        }
    }

private:
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
    }
    return summary;
}

} // namespace aimo::proxy
