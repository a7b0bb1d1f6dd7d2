// Copyright 2026 Trainyard authors.
//
// metrics-ingest's Prometheus metrics (no per-job labels):
//   trainyard_webhooks_total{result}            every webhook answer: accepted,
//     duplicate, bad_request, unauthorized, unsupported_media_type,
//     too_large, overloaded, starting, draining, off (no master key),
//     storage_error
//   trainyard_webhook_auth_failures_total{reason} 401s by cause
//   trainyard_events_ingested_total{type}       stored events (not replays)
//   trainyard_ingest_duration_seconds           one Ingest call, validate to
//   publish
// Thread-safe.
#pragma once

#include <string_view>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "trainyard/common/v1/common.pb.h"

namespace trainyard::metrics {

class IngestMetrics {
 public:
  // `registry` must outlive this.
  explicit IngestMetrics(prometheus::Registry& registry);

  void Webhook(std::string_view result);
  void AuthFailure(std::string_view reason);
  void Ingested(common::v1::EventType type);
  void IngestSeconds(double seconds);

 private:
  prometheus::Family<prometheus::Counter>& webhooks_;
  prometheus::Family<prometheus::Counter>& auth_failures_;
  prometheus::Family<prometheus::Counter>& ingested_;
  prometheus::Histogram& ingest_seconds_;
};

}  // namespace trainyard::metrics
