#include "upstream/chat.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "openai/sse.hpp"
#include "upstream/catalogue.hpp"

#include <fmt/format.h>

namespace aimo::upstream {

using nlohmann::json;

std::string stream_chat(const AimoRouter& router, const std::string& model, const json& messages,
                        const std::function<void(std::string_view)>& on_delta) {
    json request = {{"model", model}, {"messages", messages}, {"stream", true}};
    std::string body = core::json_text(request);
    auto response =
        router.send("POST", "/chat/completions", "",
                    {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}}, body);
    std::string url = router.url_for("/chat/completions", "");
    if (response.status < 200 || response.status >= 300) {
        check_status(response.status, response.read_all(1024 * 1024), url);
    }
    std::string answer;
    bool done = false;
    const std::string* type = response.header("content-type");
    if (type == nullptr || type->find("text/event-stream") == std::string::npos) {
        // A router may answer a stream request with one JSON completion.
        json parsed = json::parse(response.read_all(64 * 1024 * 1024), nullptr, false);
        auto content = parsed.is_object()
                           ? parsed.value("/choices/0/message/content"_json_pointer, json(nullptr))
                           : json(nullptr);
        if (!content.is_string()) {
            throw core::Error(core::ErrorKind::upstream_protocol,
                              fmt::format("{} answered without a completion", url));
        }
        answer = content.get<std::string>();
        on_delta(answer);
        return answer;
    }
    auto on_event = [&](std::string_view raw) {
        auto data = openai::event_data(raw);
        if (!data || done) {
            return;
        }
        if (*data == "[DONE]") {
            done = true;
            return;
        }
        json event = json::parse(*data, nullptr, false);
        if (!event.is_object()) {
            return;
        }
        if (event.contains("error")) {
            const json& error = event["error"];
            std::string message =
                error.is_object() && error.contains("message") && error["message"].is_string()
                    ? error["message"].get<std::string>()
                    : core::json_text(error);
            throw core::Error(core::ErrorKind::upstream_status,
                              fmt::format("the stream from {} failed: {}", url, message));
        }
        auto delta = event.value("/choices/0/delta/content"_json_pointer, json(nullptr));
        if (delta.is_string() && !delta.get<std::string>().empty()) {
            std::string text = delta;
            answer += text;
            on_delta(text);
        }
    };
    openai::SseReader reader;
    std::string chunk;
    std::string event;
    while (response.read(chunk)) {
        reader.feed(chunk);
        while (reader.next(event)) {
            on_event(event);
        }
    }
    on_event(reader.take_rest());
    if (!done) {
        throw core::Error(core::ErrorKind::upstream_protocol,
                          fmt::format("the stream from {} ended before [DONE]; the answer may "
                                      "be incomplete",
                                      url));
    }
    return answer;
}

json fetch_balance(const AimoRouter& router) {
    auto response =
        router.send("GET", "/session/balance", "", {{"Accept", "application/json"}}, "");
    std::string body = response.read_all(1024 * 1024);
    std::string url = router.url_for("/session/balance", "");
    check_status(response.status, body, url);
    json parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded()) {
        throw core::Error(core::ErrorKind::upstream_protocol,
                          fmt::format("{} did not answer with JSON", url));
    }
    return parsed;
}

std::optional<std::string> balance_amount(const json& balance) {
    const json& data = balance.is_object() && balance.contains("data") ? balance["data"] : balance;
    if (!data.is_object()) {
        return std::nullopt;
    }
    for (const char* key : {"balance", "balance_usd", "available", "amount"}) {
        if (data.contains(key) && !data[key].is_object()) {
            const auto& value = data[key];
            std::string amount =
                value.is_string() ? value.get<std::string>() : core::json_text(value);
            if (data.contains("currency") && data["currency"].is_string()) {
                amount += " " + data["currency"].get<std::string>();
            }
            return amount;
        }
    }
    return std::nullopt;
}

} // namespace aimo::upstream
