#include "proxy/body_scan.hpp"

#include <nlohmann/json.hpp>

namespace aimo::proxy {

namespace {
using json = nlohmann::json;

// SAX handler: tracks depth and the current key at depths 1 and 2 only.
class Scanner : public nlohmann::json_sax<json> {
public:
    explicit Scanner(BodySummary& out) : m_out(out) {}

    bool null() override { return true; }
    bool boolean(bool value) override {
        if (m_depth == 1 && m_key1 == "stream") {
            m_out.stream = value;
        } else if (m_depth == 2 && m_key1 == "stream_options" && m_key2 == "include_usage") {
            m_out.include_usage = value;
        }
        return true;
    }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t& value) override {
        if (m_depth == 1 && m_key1 == "model") {
            m_out.model = value;
        }
        return true;
    }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override {
        if (m_depth == 0) {
            m_out.is_object = true;
        }
        ++m_depth;
        return true;
    }
    bool key(string_t& value) override {
        if (m_depth == 1) {
            m_key1 = value;
            m_key2.clear();
        } else if (m_depth == 2) {
            m_key2 = value;
        }
        return true;
    }
    bool end_object() override {
        --m_depth;
        return true;
    }
    bool start_array(std::size_t) override {
        ++m_depth;
        return true;
    }
    bool end_array() override {
        --m_depth;
        return true;
    }
    bool parse_error(std::size_t, const std::string&,
                     const nlohmann::detail::exception& e) override {
        m_out.error = e.what();
        return false;
    }

private:
    BodySummary& m_out;
    int m_depth = 0;
    std::string m_key1;
    std::string m_key2;
};
} // namespace

BodySummary scan_body(std::string_view body) {
    BodySummary summary;
    Scanner scanner(summary);
    summary.valid_json = json::sax_parse(body.begin(), body.end(), &scanner);
    if (!summary.valid_json) {
        summary.is_object = false;
        summary.model.clear();
        summary.stream = false;
        if (summary.error.empty()) {
            summary.error = "invalid JSON";
        }
    }
    return summary;
}

} // namespace aimo::proxy
