// go-micro's HTTP/1.1 framing: an incremental parser (llhttp underneath) that fills a
// micro::Message, and writers that produce exactly the bytes Go's net/http writes for
// go-micro's requests and responses.
//
// Threading: an HttpParser is used by one thread at a time. The writers are pure functions.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "micro/metadata.h"
#include "micro/transport.h"

namespace micro::http {

enum class ParseStatus {
  kNeedMore,  // everything given was consumed; the message is not complete yet
  kComplete,  // one message is complete; `consumed` says where it ended
  kError,     // malformed or over a limit: see error_status() and error_reason()
};

class HttpParser {
 public:
  enum class Kind { kRequest, kResponse };

  HttpParser(Kind kind, std::size_t max_header_bytes, std::size_t max_body_bytes);
  ~HttpParser();
  HttpParser(const HttpParser&) = delete;
  HttpParser& operator=(const HttpParser&) = delete;

  // Starts the next message, to be parsed into *out (header cleared, body emptied with its
  // capacity kept). out must stay valid until the message completes or fails.
  void Start(Message* out);

  // Optional: body bytes go to sink as they are parsed instead of into Message::body, and
  // max_body_bytes does not apply (for streamed bodies such as etcd's watch). Kept across
  // Start; pass nullptr to go back to collecting. The sink runs inside Parse/Finish.
  void SetBodySink(std::function<void(const char* data, std::size_t size)> sink) {
    body_sink_ = std::move(sink);
  }

  // General servers (http::Server): requests keep their Host field and repeated fields are
  // joined with ", " (Go's Header.Values), instead of go-micro's Host-less, first-wins header.
  // Kept across Start.
  void SetKeepAllFields(bool on) { keep_all_fields_ = on; }

  // Parses data. Stops right after a complete message (pipelined bytes after it are left
  // for the next Start/Parse). *consumed = bytes used.
  ParseStatus Parse(const char* data, std::size_t size, std::size_t* consumed);
  // The peer closed: completes a response whose body runs to end of stream, otherwise an
  // error when a message was in progress.
  ParseStatus Finish();

  // After the header block of a message with a Content-Length: the body bytes still to come
  // (0 otherwise: no body left, chunked, or up to end of stream). Lets the transport read a
  // large body straight into the message instead of through its read buffer.
  std::size_t body_remaining() const;
  // Parses n body bytes that the caller has already put in place inside the message body
  // (read straight from the socket): they are checked and counted, not copied again.
  ParseStatus ParseBodyInPlace(const char* data, std::size_t n);

  // Any byte of the current message seen / its header block complete.
  bool started() const { return started_; }
  bool headers_complete() const { return headers_complete_; }
  // After kComplete: the peer asked to close after this message (Connection: close, or
  // HTTP/1.0 without keep-alive).
  bool wants_close() const { return wants_close_; }
  // Request method ("POST") and request target ("/?id=x"), requests only.
  std::string_view method() const { return method_; }
  const std::string& target() const { return target_; }
  // Response status code and reason phrase (responses only).
  int status_code() const { return status_code_; }
  const std::string& reason() const { return reason_; }
  // After kError: the HTTP status a server should answer with (400, 413 or 431) and why.
  int error_status() const { return error_status_; }
  const std::string& error_reason() const { return error_reason_; }

  struct Impl;  // llhttp callbacks live in the .cc

 private:
  ParseStatus Fail(int status, std::string reason);
  void KeepPending();

  std::unique_ptr<Impl> impl_;
  Kind kind_;
  std::size_t max_header_bytes_;
  std::size_t max_body_bytes_;
  Message* out_ = nullptr;
  std::function<void(const char*, std::size_t)> body_sink_;
  std::size_t header_bytes_ = 0;
  std::size_t body_bytes_ = 0;
  // The field being parsed: views into the bytes of the current Parse, or copies (see
  // Impl::AddPiece).
  std::string field_;
  std::string value_;
  std::string_view field_view_;
  std::string_view value_view_;
  std::string reason_;
  std::string target_;
  std::string_view method_;  // llhttp's static method name
  bool started_ = false;
  bool headers_complete_ = false;
  bool complete_ = false;
  bool wants_close_ = false;
  bool needs_resume_ = false;
  bool body_in_place_ = false;  // OnBody counts without appending (ParseBodyInPlace)
  bool keep_all_fields_ = false;
  int status_code_ = 0;
  int error_status_ = 0;
  int limit_hit_ = 0;  // 413/431 set by a callback before it aborts the parse
  std::string error_reason_;
};

// Appends the head of one go-micro request, byte-compatible with Go's http.Request.Write:
// request line, Host, User-Agent (the header's own if it has one), [Connection: close],
// Content-Length, then the message headers in sorted order with Go-canonical names.
// Appends n in decimal (Content-Length and the like), without a temporary string.
void AppendDecimal(std::string& out, std::size_t n);

void AppendRequestHead(std::string& out, std::string_view host, const Metadata& header,
                       std::size_t body_size, bool conn_close);

// Appends the head of a general request (the HTTP client): `METHOD target HTTP/1.1`, Host
// (the header's own if it has one), User-Agent, Content-Length (when the body is not empty or
// the method usually carries one), then the other headers sorted, Go-canonical.
void AppendClientRequestHead(std::string& out, std::string_view method, std::string_view target,
                             std::string_view host, const Metadata& header, std::size_t body_size);

// Appends the head of one go-micro response, byte-compatible with Go's http.Response.Write:
// `HTTP/1.1 200 OK`, Content-Length first when the body is not empty, then the headers of
// `base` (the connection's first request, may be null) with `header` set over them, sorted and
// Go-canonical, then `Content-Length: 0` last when the body is empty.
void AppendResponseHead(std::string& out, const Metadata* base, const Metadata& header,
                        std::size_t body_size);

// A complete `Connection: close` error response for a status (400, 408, 413, 431, 500).
std::string ErrorResponse(int status);

// The User-Agent our client sends.
std::string_view UserAgent();

}  // namespace micro::http
