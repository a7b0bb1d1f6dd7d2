// Copyright 2026 The Trainyard Authors.
//
// File: common/http/client.h
// -----------------------------------------------------------------------------
// HttpClient: sends HTTP/1.1 requests to one origin over a kept-alive
// connection. Used by gpusim pods to post webhooks and by job-control to call
// the RunPod REST API.
//
//   HttpClient client("http://127.0.0.1:7113",
//                     HttpClientOptions{.bearer_token = api_key});
//   absl::StatusOr<HttpResponse> response = client.Send(
//       Method::kPost, "/v1/webhooks/runpod/job-1", headers, body,
//       "application/json");
//
// A response of any HTTP status (including 4xx and 5xx) is an OK result;
// errors are for requests that got no response.

#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/http/message.h"
#include "common/http/method.h"

namespace trainyard::http {

struct HttpClientOptions {
  absl::Duration connect_timeout = absl::Seconds(5);
  // Longest wait for the next bytes of the response, and for the server to
  // accept more of the request.
  absl::Duration read_timeout = absl::Seconds(30);
  absl::Duration write_timeout = absl::Seconds(30);
  // Sent with every request, before the per-request headers.
  HttpHeaders default_headers;
  // If non-empty, every request carries "Authorization: Bearer <token>".
  std::string bearer_token;
  // Keep the connection open between requests.
  bool keep_alive = true;
  // For https: a PEM file of trusted CAs; empty means the system's store.
  std::string ca_cert_path;
};

// Thread-safety: thread-safe. Concurrent Send() calls on one client are
// serialized over its single connection; use one client per thread to send
// in parallel.
class HttpClient {
 public:
  // `base_url` is "http://host[:port][/prefix]" or "https://...", where the
  // host may be a bracketed IPv6 address; `/prefix` is put in front of every
  // request path. A malformed URL makes every Send() fail with
  // kInvalidArgument.
  explicit HttpClient(std::string base_url, HttpClientOptions options = {});
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  ~HttpClient();

  // Sends one request and waits for the whole response. `path` starts with
  // '/' and may carry a query string; it is sent as given. `content_type` is
  // sent as Content-Type when non-empty.
  //
  // Errors: kInvalidArgument (bad base URL or path), kUnavailable (cannot
  // connect, or the connection broke; the message names the address),
  // kDeadlineExceeded (connect timeout), kFailedPrecondition (TLS
  // certificate problems). Requests are never retried here: a POST may have
  // reached the server even when this returns an error.
  absl::StatusOr<HttpResponse> Send(Method method, std::string_view path,
                                    const HttpHeaders& headers = {},
                                    std::string_view body = {},
                                    std::string_view content_type = {});

  const std::string& base_url() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trainyard::http
