// Copyright 2026 The Trainyard Authors.
//
// File: common/http/request_parser.h
// -----------------------------------------------------------------------------
// RequestParser: incremental HTTP/1.1 request framing (RFC 9112) for the
// event-driven HttpServer. It is fed whatever bytes arrived and says when a
// request is complete, or which error answer ends the connection. It never
// holds more than the header limit plus the body limit: a header block over
// max_header_bytes is refused (431) as soon as that many bytes are buffered,
// a Content-Length over max_body_bytes at once (413), and a chunked body as
// soon as its decoded size passes the limit (413), without reading the rest.
//
//   RequestParser parser({.max_header_bytes = 64 << 10,
//                         .max_body_bytes = 1 << 20});
//   size_t used = 0;
//   RequestParser::Result r = parser.Feed(bytes, &used);
//   if (r == RequestParser::Result::kComplete) Use(parser.TakeRequest());
//
// Framing rules (anything else is 400 and the connection closes, because
// where the next request starts is no longer known):
//   * request line "METHOD SP /target SP HTTP/1.0|1.1"; one empty line before
//     it is skipped; header lines "name: value" ending in CRLF, no
//     obsolete line folding, no whitespace before the colon;
//   * Content-Length: digits only; repeated (as fields or a list) only with
//     the same value; together with Transfer-Encoding it is refused;
//   * Transfer-Encoding: only "chunked" (501 for other codings); chunk sizes
//     are 1-15 hex digits with optional extensions, each chunk ends in CRLF;
//     trailer fields are read and dropped, counted against the header limit.

#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/http/message.h"

namespace trainyard::http {

struct RequestLimits {
  size_t max_header_bytes = 64 << 10;
  size_t max_header_fields = 100;
  size_t max_body_bytes = 1 << 20;
};

class RequestParser {
 public:
  enum class Result {
    kNeedMore,  // Every byte was used; feed more.
    kComplete,  // A whole request; TakeRequest(). Bytes after it are unused.
    kError,     // error_status() says the answer; the connection must close.
  };
  // Where a request that is not complete stands.
  enum class Phase { kIdle, kHeader, kBody };

  explicit RequestParser(RequestLimits limits) : limits_(limits) {}

  // Consumes a prefix of `input`, sets *used to its length.
  Result Feed(std::string_view input, size_t* used);

  Phase phase() const;
  // Body bytes of the current request received so far.
  size_t body_bytes() const { return body_.size(); }
  // True once the head of the current request is parsed and it asked for
  // "Expect: 100-continue" with a body to come; cleared by the call.
  bool TakeExpectContinue();

  // The complete request: method name in `method_name` (the caller maps it
  // to Method), percent-decoded path, query and headers, raw body. Resets
  // the parser for the next request.
  struct Parsed {
    std::string method_name;
    HttpRequest request;
    bool keep_alive = true;
    bool head = false;
  };
  Parsed TakeRequest();

  // After kError: 400, 413, 431 or 501, and a short message.
  int error_status() const { return error_status_; }
  std::string_view error_message() const { return error_message_; }

 private:
  enum class State {
    kHead,
    kLengthBody,
    kChunkSize,
    kChunkData,
    kChunkDataEnd,
    kTrailers,
    kDone,
    kFailed,
  };

  Result Fail(int status, std::string_view message);
  // Parses the complete head in head_ (ending in CRLFCRLF).
  Result ParseHead();
  Result FeedHead(std::string_view input, size_t* used);
  Result FeedBody(std::string_view input, size_t* used);
  // Takes bytes into line_ up to and including CRLF; true when complete.
  bool TakeLine(std::string_view input, size_t* at);

  const RequestLimits limits_;
  State state_ = State::kHead;
  std::string head_;
  size_t head_scanned_ = 0;
  std::string line_;
  size_t trailer_bytes_ = 0;
  uint64_t remaining_ = 0;  // Of the Content-Length body or current chunk.
  bool expect_continue_ = false;
  Parsed parsed_;
  std::string body_;
  int error_status_ = 0;
  std::string error_message_;
};

// Decodes %XX escapes; false on a malformed escape. With `plus_is_space`
// (query strings) '+' decodes to ' '.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

}  // namespace trainyard::http
