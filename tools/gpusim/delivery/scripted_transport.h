// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/delivery/scripted_transport.h
// -----------------------------------------------------------------------------
// Test helper: a WebhookTransport that records every request and answers as
// the test scripts it (200 by default), including connection errors.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "common/webhook/signature.h"
#include "tools/gpusim/delivery/transport.h"

namespace trainyard::gpusim::testing {

inline webhook::Secret TestSecret() {
  return webhook::Secret::FromKey("test-key");
}

// An answer with `status` and, when >= 0, Retry-After seconds.
inline http::HttpResponse Status(int status, int retry_after = -1) {
  http::HttpResponse r{.status = status};
  if (retry_after >= 0) r.SetRetryAfter(absl::Seconds(retry_after));
  return r;
}

struct Request {
  std::string url;
  std::string id;
  int64_t timestamp = 0;
  std::string signature;
  std::string body;
};

// Records every request; answers with `answer` (default 200).
// Thread-safe.
class ScriptedTransport final : public WebhookTransport {
 public:
  using Answer = std::function<absl::StatusOr<http::HttpResponse>(
      const Request&, int request_number)>;

  absl::StatusOr<http::HttpResponse> Post(const std::string& url,
                                          const http::HttpHeaders& headers,
                                          const std::string& body) override {
    Request r{.url = url, .body = body};
    r.id = *http::FindHeader(headers, "webhook-id");
    if (!absl::SimpleAtoi(*http::FindHeader(headers, "webhook-timestamp"),
                          &r.timestamp)) {
      r.timestamp = -1;
    }
    r.signature = *http::FindHeader(headers, "webhook-signature");
    int n;
    Answer answer;
    {
      absl::MutexLock lock(&mu_);
      requests_.push_back(r);
      n = static_cast<int>(requests_.size());
      answer = answer_;
    }
    if (answer) return answer(r, n);
    return http::HttpResponse{.status = 200};
  }

  // `answer` gets each request and its number (1 for the first ever).
  void SetAnswer(Answer answer) {
    absl::MutexLock lock(&mu_);
    answer_ = std::move(answer);
  }
  std::vector<Request> requests() const {
    absl::MutexLock lock(&mu_);
    return requests_;
  }
  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const Request& r : requests()) out.push_back(r.id);
    return out;
  }

 private:
  mutable absl::Mutex mu_;
  Answer answer_ ABSL_GUARDED_BY(mu_);
  std::vector<Request> requests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trainyard::gpusim::testing
