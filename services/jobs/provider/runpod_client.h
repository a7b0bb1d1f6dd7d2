// Copyright 2026 Trainyard authors.
//
// The RunPod REST v2 client (the one place that knows the body dialect):
//   POST   /v2/pods                 {"name", "image", "gpu": {"id", "count"},
//                                    "interruptible", "env"}
//   GET    /v2/pods/{id}
//   GET    /v2/pods?name=
//   POST   /v2/pods/{id}/stop
//   DELETE /v2/pods/{id}
// with `Authorization: Bearer <key>`. Each HTTP call has a deadline (connect
// and read timeouts); timeouts, broken connections and 5xx are retried with
// exponential back-off and equal jitter up to max_attempts; a 429 is retried
// after its Retry-After when that is short, else returned (the lifecycle
// backs off); other 4xx are never retried. Back-offs run in wall time.
// gpusim-only fields (exitReason, simulation) are read when present.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/http/client.h"
#include "services/jobs/provider/provider.h"

namespace trainyard::jobs {

struct RunPodOptions {
  // "https://api.runpod.io" or gpusim's "http://127.0.0.1:7120".
  std::string base_url;
  std::string api_key;
  // Per HTTP call.
  absl::Duration call_timeout = absl::Seconds(10);
  // Tries per operation (first call included).
  int max_attempts = 4;
  absl::Duration backoff_initial = absl::Milliseconds(200);
  absl::Duration backoff_max = absl::Seconds(5);
  // A 429 whose Retry-After is at most this is retried here; longer ones are
  // returned as kResourceExhausted.
  absl::Duration max_retry_after_wait = absl::Seconds(2);
  // Kept-alive connections used in turn (each serializes its calls).
  int connections = 4;
};

class RunPodClient final : public Provider {
 public:
  explicit RunPodClient(RunPodOptions options);

  absl::StatusOr<Pod> CreatePod(const PodRequest& request) override;
  absl::StatusOr<Pod> GetPod(std::string_view pod_id) override;
  absl::StatusOr<std::optional<Pod>> FindPodByName(
      std::string_view name) override;
  absl::Status StopPod(std::string_view pod_id) override;
  absl::Status DeletePod(std::string_view pod_id) override;

  // The create body for `request` (exposed for tests).
  static std::string CreateBody(const PodRequest& request);

 private:
  // One operation with retries; returns the final response (2xx) or error.
  absl::StatusOr<http::HttpResponse> Call(http::Method method,
                                          const std::string& path,
                                          const std::string& body);
  http::HttpClient& NextConnection();

  const RunPodOptions options_;
  std::vector<std::unique_ptr<http::HttpClient>> connections_;
  std::atomic<unsigned> next_{0};
};

}  // namespace trainyard::jobs
