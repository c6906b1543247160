#include "crypto/siwx.hpp"

#include "crypto/encoding.hpp"

#include <cstdint>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace aimo::crypto {

namespace {
constexpr std::string_view intro = " wants you to sign in with your Solana account:";

void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    for (char c : text) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
            } else {
                out += c;
            }
        }
    }
    out += '"';
}
} // namespace

std::string format_siwx_message(const SiwxMessage& m) {
    std::string out;
    out.reserve(256 + m.uri.size());
    out.append(m.domain).append(intro).append("\n");
    out.append(m.address).append("\n\n");
    out.append("URI: ").append(m.uri).append("\n");
    out.append("Version: 1\n");
    out.append("Chain ID: ").append(m.chain_id).append("\n");
    if (!m.nonce.empty()) {
        out.append("Nonce: ").append(m.nonce).append("\n");
    }
    if (!m.issued_at.empty()) {
        out.append("Issued At: ").append(m.issued_at).append("\n");
    }
    out.append("Expiration Time: ").append(m.expiration_time);
    return out;
}

namespace {
// Year, month and day of a count of days since 1970-01-01 in the proleptic Gregorian calendar
// (eras of 400 years, each starting on 1 March so the leap day ends the year).
void civil_from_days(int64_t days, int64_t& year, int& month, int& day) {
    days += 719468; // from 0000-03-01
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    auto day_of_era = static_cast<int>(days - era * 146097);
    int year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int shifted_month = (5 * day_of_year + 2) / 153; // 0 = March
    day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
    year = year_of_era + era * 400 + (month <= 2 ? 1 : 0);
}

char* put_digits(char* out, int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    return out + width;
}
} // namespace

// Every request stamps its record with this, so it avoids gmtime's locks and format parsing.
std::string format_timestamp(std::chrono::system_clock::time_point time) {
    int64_t millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
    constexpr int64_t per_day = 86400000;
    int64_t days = (millis >= 0 ? millis : millis - (per_day - 1)) / per_day;
    int64_t in_day = millis - days * per_day;
    int64_t year = 0;
    int month = 0;
    int day = 0;
    civil_from_days(days, year, month, day);
    if (year < 0 || year > 9999) { // not a time this program meets; still readable
        return fmt::format("{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", year, month, day,
                           in_day / 3600000, in_day / 60000 % 60, in_day / 1000 % 60,
                           in_day % 1000);
    }
    std::string out(24, '\0');
    char* p = out.data();
    p = put_digits(p, year, 4);
    *p++ = '-';
    p = put_digits(p, month, 2);
    *p++ = '-';
    p = put_digits(p, day, 2);
    *p++ = 'T';
    p = put_digits(p, in_day / 3600000, 2);
    *p++ = ':';
    p = put_digits(p, in_day / 60000 % 60, 2);
    *p++ = ':';
    p = put_digits(p, in_day / 1000 % 60, 2);
    *p++ = '.';
    p = put_digits(p, in_day % 1000, 3);
    *p = 'Z';
    return out;
}

std::string siwx_header_value(const Keypair& keypair, const SiwxMessage& message) {
    std::string text = format_siwx_message(message);
    Signature signature = keypair.sign(text);
    std::string json;
    json.reserve(text.size() + 160);
    json += "{\"message\":";
    append_json_string(json, text);
    json += ",\"signature\":";
    append_json_string(json, base58_encode(signature.data(), signature.size()));
    json += '}';
    return base64_encode(json);
}

namespace {
// How long a presigned header waits to be taken: it keeps nearly all of its validity.
constexpr auto presigned_for = std::chrono::seconds(1);
// Bounds what presigning keeps: headers per URL, and URLs (queries come from clients).
constexpr size_t presigned_per_url = 64;
constexpr size_t presigned_urls = 64;
} // namespace

std::string SiwxSigner::header_at(std::string_view authority, std::string_view url,
                                  std::chrono::system_clock::time_point now) const {
    SiwxMessage message;
    message.domain = authority;
    message.address = m_keypair.address();
    message.uri = url;
    message.chain_id = m_chain_id;
    message.expiration_time = format_timestamp(now + m_validity);
    return siwx_header_value(m_keypair, message);
}

std::string SiwxSigner::sign(std::string_view authority, std::string_view url) const {
    auto now = m_clock();
    std::string key;
    if (m_reuse.count() > 0 || m_ready_count.load() > 0) {
        key.append(authority).append(" ").append(url);
    }
    if (m_reuse.count() > 0) {
        std::lock_guard lock(m_mutex);
        if (auto it = m_recent.find(key); it != m_recent.end() && now >= it->second.signed_at &&
                                          now - it->second.signed_at < m_reuse) {
            return it->second.header;
        }
    } else if (m_ready_count.load() > 0) {
        std::lock_guard lock(m_mutex);
        if (auto it = m_ready.find(key); it != m_ready.end() && !it->second.empty()) {
            auto& ready = it->second; // oldest first: when the newest is too old, all are
            Recent newest = std::move(ready.back());
            ready.pop_back();
            --m_ready_count;
            if (now >= newest.signed_at && now - newest.signed_at < presigned_for) {
                return std::move(newest.header);
            }
            m_ready_count -= ready.size();
            ready.clear();
        }
    }
    std::string header = header_at(authority, url, now);
    if (m_reuse.count() > 0) {
        std::lock_guard lock(m_mutex);
        m_recent[key] = {header, now};
    }
    return header;
}

void SiwxSigner::presign(std::string_view authority, std::string_view url) const {
    if (m_reuse.count() > 0) {
        return;
    }
    auto now = m_clock();
    Recent ready{header_at(authority, url, now), now};
    std::string key;
    key.append(authority).append(" ").append(url);
    std::lock_guard lock(m_mutex);
    if (m_ready.size() >= presigned_urls && m_ready.find(key) == m_ready.end()) {
        m_ready.clear();
        m_ready_count = 0;
    }
    auto& list = m_ready[key];
    while (!list.empty() &&
           !(now >= list.front().signed_at && now - list.front().signed_at < presigned_for)) {
        list.pop_front();
        --m_ready_count;
    }
    if (list.size() >= presigned_per_url) {
        return;
    }
    list.push_back(std::move(ready));
    ++m_ready_count;
}

SiwxCheck check_siwx_header(std::string_view header_value) {
    SiwxCheck check;
    auto decoded = base64_decode(header_value);
    if (!decoded) {
        check.problem = "header is not standard base64";
        return check;
    }
    nlohmann::json json = nlohmann::json::parse(*decoded, nullptr, false);
    if (!json.is_object() || !json.contains("message") || !json["message"].is_string() ||
        !json.contains("signature") || !json["signature"].is_string() || json.size() != 2) {
        check.problem = "header JSON is not {\"message\":string,\"signature\":string}";
        return check;
    }
    std::string text = json["message"];
    std::vector<std::string> lines;
    size_t start = 0;
    for (size_t pos; (pos = text.find('\n', start)) != std::string::npos; start = pos + 1) {
        lines.push_back(text.substr(start, pos - start));
    }
    lines.push_back(text.substr(start));
    auto field = [&](size_t index, std::string_view prefix, std::string& into) {
        if (index >= lines.size() || lines[index].rfind(prefix, 0) != 0) {
            return false;
        }
        into = lines[index].substr(prefix.size());
        return true;
    };
    auto& m = check.message;
    size_t at = 6;
    bool ok = lines.size() >= 7 && lines[0].size() > intro.size() &&
              lines[0].substr(lines[0].size() - intro.size()) == intro && lines[2].empty() &&
              lines[4] == "Version: 1" && field(3, "URI: ", m.uri) &&
              field(5, "Chain ID: ", m.chain_id);
    if (ok) {
        m.domain = lines[0].substr(0, lines[0].size() - intro.size());
        m.address = lines[1];
        if (field(at, "Nonce: ", m.nonce)) {
            ++at;
        }
        if (field(at, "Issued At: ", m.issued_at)) {
            ++at;
        }
        ok = field(at, "Expiration Time: ", m.expiration_time) && at + 1 == lines.size();
    }
    if (!ok) {
        check.problem = "message does not have the SIWx layout";
        return check;
    }
    auto key = base58_decode(m.address);
    auto signature = base58_decode(json["signature"].get<std::string>());
    if (!key || key->size() != 32 || !signature || signature->size() != 64) {
        check.problem = "address or signature is not base58 of the right length";
        return check;
    }
    PublicKey public_key{};
    Signature sig{};
    std::copy(key->begin(), key->end(), public_key.begin());
    std::copy(signature->begin(), signature->end(), sig.begin());
    if (!verify_signature(public_key, text, sig)) {
        check.problem = "signature does not verify for the address";
        return check;
    }
    check.valid = true;
    return check;
}

} // namespace aimo::crypto
