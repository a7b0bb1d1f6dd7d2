// Copyright 2026 Trainyard authors.
//
// POST /v1/webhooks/runpod/{job_id} on the admin port, exactly as webhooks.md
// says. In order: 503 while the service starts (reason "starting",
// Retry-After 1 s) or drains ("draining", 5 s), 503 when webhooks are off (no
// master key, "off", 60 s), 415 unless JSON, 413 over max_body_bytes,
// 429 when too many are in flight, 401 unless the Standard Webhooks
// signature over the raw bytes (and webhook-id) verifies with the job's
// derived secret (counted by cause), 421 Misdirected Request when the job
// is another shard's (reason WRONG_SHARD and the job's shard in the body),
// 400 naming the JSON field, then one
// durable write: 200 once the event is in the WAL, 200 for a replay with
// nothing stored, 503 when the write fails (reason STORAGE_FULL or
// STORAGE_ERROR, Retry-After 1 s). Every answer is counted in
// trainyard_webhooks_total. A rejected request stores nothing.
//
// Thread-safe; called concurrently by the HTTP server's workers.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "absl/time/time.h"
#include "common/http/message.h"
#include "common/server/service_phase.h"
#include "common/shard/shard.h"
#include "common/time/clock.h"
#include "common/webhook/signature.h"
#include "services/metrics/ingest/ingest_metrics.h"
#include "services/metrics/ingest/ingestor.h"

namespace trainyard::metrics {

inline constexpr char kWebhookRoute[] = "/v1/webhooks/runpod/{job_id}";

struct WebhookOptions {
  // Requests being handled at once beyond which new ones get 429.
  int max_in_flight = 512;
  absl::Duration tolerance = webhook::kDefaultTolerance;
  // Larger bodies are answered 413 (webhooks.md: 1 MiB). Must stay below
  // the admin server's own limit (server::kAdminMaxBodyBytes), which would
  // answer first and uncounted.
  size_t max_body_bytes = 1 << 20;
  // This process's shard (--shard); a job of another shard is answered 421.
  shard::ShardIdentity shard;
};

class WebhookHandler {
 public:
  // `master_key` derives each job's secret (never logged); empty: webhooks
  // are off and every request is answered 503. `wall_clock` is
  // real time, never the suite's scaled time: webhook-timestamp and its
  // tolerance are wall-clock seconds (webhooks.md), so a sender with another
  // --time_origin or --time_scale is not rejected as stale (the body's
  // `time` stays suite time). `phase` tells where the service is in its life
  // (ServiceHost::phase): webhooks are taken only while it is serving.
  // References must outlive the handler; `metrics` may be null.
  WebhookHandler(std::string master_key, Ingestor& ingestor,
                 const Clock& wall_clock,
                 std::function<server::ServicePhase()> phase,
                 IngestMetrics* metrics, WebhookOptions options = {});

  http::HttpResponse Handle(const http::HttpRequest& request);

 private:
  http::HttpResponse Answer(std::string_view result, http::HttpResponse r);

  const std::string master_key_;
  Ingestor& ingestor_;
  const Clock& wall_clock_;
  const std::function<server::ServicePhase()> phase_;
  IngestMetrics* const metrics_;
  const WebhookOptions options_;
  std::atomic<int> in_flight_{0};
};

}  // namespace trainyard::metrics
