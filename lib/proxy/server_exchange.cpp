#include "openai/errors.hpp"
#include "proxy/errors.hpp"
#include "proxy/server_impl.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <thread>

namespace aimo::proxy {

using namespace server_detail;

void Server::Impl::dispatch(std::unique_ptr<ClientSocket> client) {
    std::unique_lock lock(work_mutex);
    jobs.push_back(std::move(client));
    if (idle_workers >= jobs.size()) {
        work_ready.notify_one();
        return;
    }
    ++workers;
    lock.unlock();
    try {
        std::thread([self = shared_from_this()] { self->work(); }).detach();
    } catch (const std::system_error&) {
        // No thread to be had: the job waits for one that finishes.
        lock.lock();
        --workers;
    }
}

void Server::Impl::work() {
    std::unique_lock lock(work_mutex);
    for (;;) {
        while (jobs.empty()) {
            ++idle_workers;
            bool woke =
                work_ready.wait_for(lock, worker_idle, [this] { return !jobs.empty() || stopped; });
            --idle_workers;
            if (!woke || jobs.empty()) { // idle too long, or the server stopped
                --workers;
                workers_gone.notify_all();
                return;
            }
        }
        auto client = std::move(jobs.front());
        jobs.pop_front();
        lock.unlock();
        serve_connection(std::move(client));
        lock.lock();
    }
}

void Server::Impl::serve_connection(std::unique_ptr<ClientSocket> client) {
    for (;;) {
        client->buffer.erase(0, leading_blank_lines(client->buffer));
        size_t end = find_head_end(client->buffer);
        if (end == 0) {
            if (client->peer_closed || stopped) {
                return;
            }
            if (client->buffer.size() > max_head_bytes) {
                refuse(*client,
                       {431, "request_header_fields_too_large", "the request head is too large"});
                return;
            }
            // A client that sends its next request right after each answer (an agent
            // fanning out over one connection, a benchmark) is waited for here a moment:
            // handing it to the poller and back costs two thread switches per request.
            if (client->quick) {
                client->quick = false; // once per request: a trickle goes to the poller
                auto result = read_more(client->fd, client->buffer, Clock::now() + linger);
                if (result == ReadResult::closed) {
                    return;
                }
                continue;
            }
            wait_for_request(std::move(client));
            return;
        }
        client->quick = Clock::now() - client->answered_at < linger;
        if (!serve_one(*client, end) || stopped) {
            return;
        }
        client->answered_at = Clock::now();
    }
}

std::optional<HttpError> Server::Impl::read_body(ClientSocket& client, const RequestHead& head,
                                                 std::string& body) {
    if (head.body == RequestHead::Body::none) {
        return std::nullopt;
    }
    auto too_large = [&] {
        return HttpError{413, "request_too_large",
                         fmt::format("request body is larger than {} bytes; raise "
                                     "--max-body-bytes if this is intended",
                                     options.max_body_bytes)};
    };
    if (head.body == RequestHead::Body::length && head.content_length > options.max_body_bytes) {
        return too_large(); // refused before a byte of it is read
    }
    auto deadline = Clock::now() + options.body_timeout;
    auto late = [&] {
        return HttpError{408, "request_timeout",
                         fmt::format("the request body did not arrive within {} s",
                                     options.body_timeout.count() / 1000.0)};
    };
    if (head.expect_continue && client.buffer.empty() &&
        !send_all(client.fd, "HTTP/1.1 100 Continue\r\n\r\n", options.write_timeout)) {
        return HttpError{0, "", ""};
    }
    if (head.body == RequestHead::Body::length) {
        auto length = static_cast<size_t>(head.content_length);
        body.swap(client.buffer);
        body.reserve(length);
        while (body.size() < length) {
            auto result = read_more(client.fd, body, deadline);
            if (result == ReadResult::closed) {
                return HttpError{0, "", ""};
            }
            if (result == ReadResult::timeout) {
                return late();
            }
        }
        if (body.size() > length) {
            client.buffer.assign(body, length); // the start of a pipelined request
            body.resize(length);
        }
        return std::nullopt;
    }
    ChunkedDecoder decoder(options.max_body_bytes);
    for (;;) {
        size_t used = 0;
        auto status = decoder.feed(client.buffer, body, used);
        client.buffer.erase(0, used);
        if (status == ChunkedDecoder::Status::done) {
            return std::nullopt;
        }
        if (status == ChunkedDecoder::Status::too_large) {
            return too_large();
        }
        if (status == ChunkedDecoder::Status::error) {
            return HttpError{400, "bad_request", "malformed chunked body: " + decoder.error()};
        }
        auto result = read_more(client.fd, client.buffer, deadline);
        if (result == ReadResult::closed) {
            return HttpError{0, "", ""};
        }
        if (result == ReadResult::timeout) {
            return late();
        }
    }
}

std::string Server::Impl::response_head(const Response& response, const std::string& request_id,
                                        int minor_version, bool keep_alive, bool chunked) const {
    std::string out;
    out.reserve(256 + response.headers.size() * 48);
    out.append("HTTP/1.1 ")
        .append(std::to_string(response.status))
        .append(" ")
        .append(status_reason(response.status))
        .append("\r\n");
    for (const auto& [name, value] : response.headers) {
        append_header(out, name, value);
    }
    append_header(out, "Content-Type", response.content_type);
    append_header(out, "x-request-id", request_id);
    if (chunked) {
        out.append("Transfer-Encoding: chunked\r\n");
    } else if (!response.stream) {
        out.append("Content-Length: ").append(std::to_string(response.body.size()));
        out.append("\r\n");
    }
    if (!keep_alive) {
        out.append("Connection: close\r\n");
    } else {
        if (minor_version == 0) {
            out.append("Connection: keep-alive\r\n");
        }
        out.append(keep_alive_header); // clients close before we do, not while reusing
    }
    out.append("\r\n");
    return out;
}

bool Server::Impl::serve_one(ClientSocket& client, size_t head_end) {
    Exchange exchange(*this, client.fd);
    auto& record = exchange.record;
    auto parsed = parse_request_head(std::string_view(client.buffer).substr(0, head_end));
    if (auto* error = std::get_if<HttpError>(&parsed)) {
        std::tie(record.method, record.path) = request_line_parts(client.buffer);
        client.buffer.clear(); // what follows a malformed head cannot be trusted
        answer_error(exchange, *error, 1);
        return false;
    }
    client.buffer.erase(0, head_end);
    auto& head = std::get<RequestHead>(parsed);
    record.method = head.method;
    record.path = head.path;
    std::string body;
    if (auto error = read_body(client, head, body)) {
        if (error->status == 0) {
            record.status = 499; // the client left before its request was whole
            record.aborted = true;
        } else {
            answer_error(exchange, *error, head.minor_version);
        }
        return false; // the rest of the connection's bytes cannot be framed
    }
    Request request;
    request.method = std::move(head.method);
    request.path = std::move(head.path);
    request.query = std::move(head.query);
    request.headers = std::move(head.headers);
    request.body = body;
    request.id = record.request_id;
    request.client_gone = [fd = client.fd] { return hung_up(fd); };
    request.peer = [fd = client.fd] { return peer_address(fd); };
    Response response;
    try {
        response = handler.handle(request);
    } catch (const std::exception& e) {
        response = error_response(500, std::string("internal error in aimo: ") + e.what(),
                                  "server_error", "internal_error");
    }
    bool keep_alive = head.keep_alive && !stopped;
    return respond(exchange, request.method == "HEAD", head.minor_version, keep_alive,
                   std::move(response)) &&
           keep_alive;
}

void Server::Impl::answer_error(Exchange& exchange, const HttpError& error, int minor_version) {
    respond(exchange, false, minor_version, false,
            error_response(error.status, error.message, "invalid_request_error", error.code));
}

bool Server::Impl::respond(Exchange& exchange, bool head_only, int minor_version, bool keep_alive,
                           Response response) {
    auto& record = exchange.record;
    record.status = response.status;
    record.fields = std::move(response.log);
    exchange.final_log = std::move(response.final_log);
    if (!response.stream) {
        std::string out =
            response_head(response, record.request_id, minor_version, keep_alive, false);
        if (!head_only) {
            out += response.body;
            record.bytes = response.body.size();
        }
        if (!exchange.write(out)) {
            record.aborted = true;
            return false;
        }
        return true;
    }
    // HTTP/1.0 has no chunked coding: there the end of the connection ends the body.
    bool chunked = minor_version == 1;
    exchange.chunked = chunked;
    exchange.sse = response.content_type.find("text/event-stream") != std::string::npos;
    if (!exchange.write(response_head(response, record.request_id, minor_version,
                                      keep_alive && chunked, chunked))) {
        record.aborted = true;
        return false;
    }
    std::string chunk;
    for (;;) {
        bool more = false;
        try {
            more = response.stream(chunk);
        } catch (const std::exception&) {
            record.aborted = true;
            return false;
        }
        if (!more) {
            break;
        }
        if (chunk.empty() || head_only) {
            continue;
        }
        if (!exchange.write(chunked ? chunk_frame(chunk) : chunk)) {
            record.aborted = true;
            return false;
        }
        record.bytes += chunk.size();
    }
    if (chunked && !head_only && !exchange.write("0\r\n\r\n")) {
        record.aborted = true;
        return false;
    }
    return chunked;
}

void Server::Impl::cut_off_in_flight() {
    std::string message = fmt::format(
        "aimo is shutting down and its drain timeout ({} s) has passed; retry the request",
        options.drain_timeout.count());
    std::string json = openai::error_json(message, "server_error", "server_shutting_down");
    std::lock_guard lock(flight_mutex);
    for (auto* exchange : active) {
        std::unique_lock write(exchange->write_mutex, std::defer_lock);
        // A write in progress keeps its lock; one to a client that does not read keeps it
        // long, and that exchange is only closed.
        if (!write.try_lock()) {
            std::this_thread::sleep_for(milliseconds(1));
            write.try_lock();
        }
        if (write.owns_lock() && !exchange->cut) {
            std::string out;
            if (!exchange->head_sent) {
                Response response =
                    error_response(503, message, "server_error", "server_shutting_down");
                out = response_head(response, exchange->record.request_id, 1, false, false) +
                      response.body;
            } else if (exchange->sse && exchange->chunked) {
                out = chunk_frame("data: " + json + "\n\n") + "0\r\n\r\n";
            } else if (exchange->sse) {
                out = "data: " + json + "\n\n";
            }
            send_all(exchange->fd, out, milliseconds(200));
        }
        exchange->cut = true;
        ::shutdown(exchange->fd, SHUT_RDWR);
    }
}

} // namespace aimo::proxy
