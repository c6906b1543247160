#include "openai/sse.hpp"

#include <catch2/catch.hpp>
#include <vector>

using namespace aimo;

namespace {
// Every event's data, reading `stream` in pieces of `step` bytes.
std::vector<std::string> data_of(const std::string& stream, size_t step) {
    std::vector<std::string> out;
    openai::SseReader reader;
    std::string event;
    for (size_t i = 0; i < stream.size(); i += step) {
        reader.feed(std::string_view(stream).substr(i, step));
        while (reader.next(event)) {
            if (auto data = openai::event_data(event)) {
                out.push_back(*data);
            }
        }
    }
    if (auto data = openai::event_data(reader.take_rest())) {
        out.push_back(*data);
    }
    return out;
}
} // namespace

TEST_CASE("SSE events are reassembled across arbitrary splits", "[sse]") {
    std::string stream = ": comment\n\ndata: one\n\nevent: x\ndata: two\ndata: lines\r\n\r\n"
                         "data:[DONE]\n\n";
    for (size_t step : {1, 2, 3, 7, 100}) {
        INFO(step);
        CHECK(data_of(stream, step) == std::vector<std::string>{"one", "two\nlines", "[DONE]"});
    }
}

TEST_CASE("a final event without a blank line is delivered at the end", "[sse]") {
    openai::SseReader reader;
    std::string event;
    reader.feed("data: last");
    CHECK_FALSE(reader.next(event));
    CHECK(reader.take_complete().empty());
    CHECK(openai::event_data(reader.take_rest()) == "last");
}

TEST_CASE("complete events are taken byte for byte, with LF, CRLF or CR line ends", "[sse]") {
    const std::string stream = "data: a\r\n\r\n: ping\n\ndata: b\rdata: c\r\r"
                               "data: partial";
    for (size_t step : {size_t(1), size_t(2), size_t(5), stream.size()}) {
        INFO(step);
        openai::SseReader reader;
        std::string relayed;
        for (size_t i = 0; i < stream.size(); i += step) {
            reader.feed(std::string_view(stream).substr(i, step));
            relayed += reader.take_complete();
        }
        // Whatever the split, only whole events come out, and nothing is changed.
        CHECK(relayed == "data: a\r\n\r\n: ping\n\ndata: b\rdata: c\r\r");
        CHECK(reader.take_rest() == "data: partial");
    }
    CHECK(data_of(stream, 3) == std::vector<std::string>{"a", "b\nc", "partial"});
}

TEST_CASE("events are written as data lines that read back the same", "[sse]") {
    CHECK(openai::data_event("{\"x\":1}") == "data: {\"x\":1}\n\n");
    CHECK(openai::data_event("two\nlines") == "data: two\ndata: lines\n\n");
    for (std::string data : {std::string("plain"), std::string("a\nb\nc"), std::string("")}) {
        CHECK(openai::event_data(openai::data_event(data)) == data);
    }
    CHECK_FALSE(openai::event_data(": keep-alive\n\n"));
    CHECK(openai::event_data("data\n\n") == "");
}
