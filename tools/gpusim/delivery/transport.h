// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/delivery/transport.h
// -----------------------------------------------------------------------------
// How a webhook leaves the process: an interface (so sender tests can script
// answers and connection errors) and its HTTP implementation.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/http/client.h"
#include "common/http/message.h"

namespace trainyard::gpusim {

// Thread-safety: implementations are thread-safe.
class WebhookTransport {
 public:
  virtual ~WebhookTransport() = default;
  // POSTs `body` as application/json to `url` with `headers`. Any HTTP answer
  // is an OK result; an error means no answer (connection refused or broken,
  // timeout, bad URL).
  virtual absl::StatusOr<http::HttpResponse> Post(
      const std::string& url, const http::HttpHeaders& headers,
      const std::string& body) = 0;
};

// Splits "http://host:port/a/b?q" into "http://host:port" and "/a/b?q"
// (path "/" when none). kInvalidArgument when there is no scheme.
absl::Status SplitUrl(std::string_view url, std::string* origin,
                      std::string* path);

// Keep-alive HTTP clients pooled per origin: each concurrent Post() takes a
// client of its own, so N sender threads hold at most N connections to a
// receiver.
class HttpTransport final : public WebhookTransport {
 public:
  explicit HttpTransport(http::HttpClientOptions options = {});
  absl::StatusOr<http::HttpResponse> Post(const std::string& url,
                                          const http::HttpHeaders& headers,
                                          const std::string& body) override;

 private:
  const http::HttpClientOptions options_;
  absl::Mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<http::HttpClient>>> idle_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace trainyard::gpusim
