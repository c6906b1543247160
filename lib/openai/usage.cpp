#include "openai/usage.hpp"

#include "core/json_scan.hpp"
#include "openai/sse.hpp"

#include <charconv>

namespace aimo::openai {

namespace {
// Reads token counts out of an answer the scanner validates, without building a document
// (every answer passes through here). Mirrors what the answer means: `usage` at the top, else
// `response.usage` (Responses API events); prompt_tokens before input_tokens, completion_tokens
// before output_tokens; only non-negative integers count.
class UsageFields {
public:
    enum Slot { none, root, usage, response, response_usage, choices, fields };
    enum Field {
        prompt,
        input,
        completion,
        output,
        total,
        cache_read,
        cache_creation,
        field_count
    };

    int key(int slot, int depth, std::string_view key) {
        if (slot == root && depth == 1) {
            if (key == "usage") {
                m_usage[0] = {};
                return usage;
            }
            if (key == "response" || key == "message") { // Anthropic's message_start
                return response;
            }
            if (key == "choices") {
                return choices;
            }
        } else if (slot == response && depth == 2 && key == "usage") {
            m_usage[1] = {};
            return response_usage;
        } else if (slot == usage || slot == response_usage) {
            int base = fields + (slot == usage ? 0 : field_count);
            for (int f = 0; f < field_count; ++f) {
                if (key == names[f]) {
                    auto& partial = m_usage[slot == usage ? 0 : 1];
                    partial.present[f] = true;
                    partial.integer[f] = false; // the last of duplicate keys counts
                    return base + f;
                }
            }
        }
        return none;
    }

    void object(int slot, int) {
        if (slot == usage || slot == response_usage) {
            m_usage[slot == usage ? 0 : 1].is_object = true;
        }
    }

    void array(int slot, bool empty) {
        if (slot == choices) {
            m_choices_empty = empty;
        }
    }

    void string(int, std::string_view) {}
    void literal(int, std::string_view) {}

    void number(int slot, std::string_view token) {
        if (slot < fields) {
            return;
        }
        int index = slot - fields;
        auto& usage = m_usage[index / field_count];
        int64_t value = 0;
        bool integer = false;
        // Integers only (JSON 12.0 is not a count); negative counts, and counts past int64,
        // mean nothing. Past uint64 a number is not an integer to a JSON library either.
        if (token.find_first_of(".eE") == std::string_view::npos) {
            const char* end = token.data() + token.size();
            integer = std::from_chars(token.data(), end, value).ec == std::errc();
            if (!integer) {
                uint64_t big = 0;
                integer = std::from_chars(token.data(), end, big).ec == std::errc();
            }
            if (!integer || value < 0) {
                value = 0;
            }
        }
        usage.integer[index % field_count] = integer;
        usage.value[index % field_count] = value;
    }

    TokenUsage result() const {
        const Partial& usage = m_usage[0].is_object ? m_usage[0] : m_usage[1];
        TokenUsage out;
        if (!usage.is_object) {
            return out;
        }
        out.prompt = usage.either(prompt, input);
        if (!usage.integer[prompt]) {
            // Anthropic counts cached prompt tokens apart from input_tokens.
            out.prompt +=
                usage.either(cache_read, cache_read) + usage.either(cache_creation, cache_creation);
        }
        out.completion = usage.either(completion, output);
        out.has_prompt = usage.present[prompt] || usage.present[input] || usage.present[total];
        // Anthropic's message_delta reports the output alone; the prompt came before.
        out.found = out.has_prompt || usage.present[completion] || usage.present[output];
        return out;
    }

    bool choices_empty() const { return m_choices_empty; }

private:
    static constexpr std::string_view names[field_count] = {"prompt_tokens",
                                                            "input_tokens",
                                                            "completion_tokens",
                                                            "output_tokens",
                                                            "total_tokens",
                                                            "cache_read_input_tokens",
                                                            "cache_creation_input_tokens"};

    struct Partial {
        bool is_object = false;
        bool present[field_count] = {};
        bool integer[field_count] = {};
        int64_t value[field_count] = {};
        int64_t either(Field a, Field b) const {
            return integer[a] ? value[a] : integer[b] ? value[b] : 0;
        }
    };
    Partial m_usage[2]; // `usage`, then `response.usage`
    bool m_choices_empty = false;
};

// Scans `text`; nothing is counted from text that is not one valid JSON value.
bool scan_usage(std::string_view text, UsageFields& fields) {
    core::JsonScan<UsageFields> scan(text, fields);
    return scan.run(UsageFields::root);
}
} // namespace

TokenUsage usage_from_json(std::string_view body) {
    if (body.find("\"usage\"") == std::string_view::npos) {
        return {};
    }
    UsageFields fields;
    return scan_usage(body, fields) ? fields.result() : TokenUsage{};
}

EventUsage usage_from_event(std::string_view event) {
    EventUsage out;
    if (event.find("\"usage\"") == std::string_view::npos) {
        return out;
    }
    auto data = event_data(event);
    if (!data) {
        return out;
    }
    UsageFields fields;
    if (!scan_usage(*data, fields)) {
        return out;
    }
    out.usage = fields.result();
    out.usage_only = out.usage.found && fields.choices_empty();
    return out;
}

} // namespace aimo::openai
