// Copyright 2026 The Trainyard Authors.
//
// File: common/http/message.h
// -----------------------------------------------------------------------------
// The request and response values that HttpServer hands to handlers and that
// HttpClient returns, plus helpers for JSON error bodies. These are plain
// values with no tie to the HTTP library underneath, so handlers can be unit
// tested by building an HttpRequest by hand.

#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/http/method.h"

namespace trainyard::http {

// Header fields in the order they were received or are to be sent. Names keep
// the case they were given; look them up with FindHeader(), which ignores
// ASCII case as HTTP requires.
using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Name/value pairs of path or query parameters, in order of appearance.
using HttpParams = std::vector<std::pair<std::string, std::string>>;

// Returns the value of the first field of `headers` named `name` (ASCII
// case-insensitive), or nullptr if there is none. The pointer is valid until
// `headers` is modified or destroyed.
const std::string* FindHeader(const HttpHeaders& headers,
                              std::string_view name);

// Returns the value of the first parameter named `name` (case-sensitive), or
// nullptr if there is none.
const std::string* FindParam(const HttpParams& params, std::string_view name);

// A request as a handler sees it. The server fills every field; the body has
// been read completely and is within the server's size limit.
struct HttpRequest {
  Method method = Method::kGet;
  // Percent-decoded path without the query string, e.g. "/v1/jobs/j-1".
  std::string path;
  // Captured by the route pattern: for "/v1/jobs/{job_id}", {"job_id", "j-1"}.
  HttpParams path_params;
  // Decoded query parameters ("?a=1&b=2"), repeated names kept.
  HttpParams query_params;
  HttpHeaders headers;
  // The raw body bytes exactly as received (never re-encoded), so signatures
  // over them can be checked.
  std::string body;
  // The peer's numeric IP address and TCP port.
  std::string remote_addr;
  int remote_port = 0;

  // Returns the named header's value, or nullptr. See FindHeader().
  const std::string* FindHeader(std::string_view name) const {
    return http::FindHeader(headers, name);
  }
  // Returns the named header's value, or "" if it is absent.
  std::string_view Header(std::string_view name) const;
  // Returns the named path parameter, or "" if the route has none by that
  // name.
  std::string_view PathParam(std::string_view name) const;
  // Returns the first query parameter by that name, or nullptr.
  const std::string* FindQueryParam(std::string_view name) const {
    return FindParam(query_params, name);
  }
};

// A response as a handler returns it, or as HttpClient received it.
struct HttpResponse {
  int status = 200;
  // Sent as Content-Type when non-empty. HttpClient fills it from the
  // response's Content-Type header.
  std::string content_type;
  std::string body;
  // Extra header fields. Content-Type, Content-Length and the connection
  // management fields are written by the server and must not appear here.
  HttpHeaders headers;

  // Returns the named header's value, or nullptr. See FindHeader().
  const std::string* FindHeader(std::string_view name) const {
    return http::FindHeader(headers, name);
  }
  // Replaces every field named `name` (ASCII case-insensitive) by one field
  // with `value`.
  void SetHeader(std::string_view name, std::string_view value);
  // Sets "Retry-After" to `delay` in whole seconds, rounded up; negative
  // delays count as zero. Meant for 429 and 503 answers.
  void SetRetryAfter(absl::Duration delay);
};

// Returns a response with `status` and the JSON body
// {"error":"<message>","field":"<field>","reason":"<reason>"}, "field" and
// "reason" (a word a client can branch on, e.g. "starting") left out when
// empty. Content type is application/json. Written with nlohmann-json; bytes
// that are not valid UTF-8 become U+FFFD, so the body is always valid JSON.
HttpResponse JsonError(int status, std::string_view message,
                       std::string_view field = {},
                       std::string_view reason = {});

}  // namespace trainyard::http
