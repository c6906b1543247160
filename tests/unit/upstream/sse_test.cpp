#include "upstream/sse.hpp"

#include <catch2/catch.hpp>
#include <vector>

using namespace aimo;

TEST_CASE("SSE events are reassembled across arbitrary splits", "[sse]") {
    std::string stream = ": comment\n\ndata: one\n\nevent: x\ndata: two\ndata: lines\r\n\r\n"
                         "data:[DONE]\n\n";
    for (size_t step : {1, 2, 3, 7, 100}) {
        std::vector<std::string> events;
        upstream::SseParser parser([&](const std::string& data) { events.push_back(data); });
        for (size_t i = 0; i < stream.size(); i += step) {
            parser.feed(std::string_view(stream).substr(i, step));
        }
        parser.finish();
        CHECK(events == std::vector<std::string>{"one", "two\nlines", "[DONE]"});
    }
}

TEST_CASE("a final event without a blank line is delivered on finish", "[sse]") {
    std::vector<std::string> events;
    upstream::SseParser parser([&](const std::string& data) { events.push_back(data); });
    parser.feed("data: last");
    CHECK(events.empty());
    parser.finish();
    CHECK(events == std::vector<std::string>{"last"});
}
