// Copyright 2026 Trainyard authors.
#include "services/metrics/ingest/ingest_metrics.h"

#include "absl/strings/ascii.h"

namespace trainyard::metrics {

IngestMetrics::IngestMetrics(prometheus::Registry& registry)
    : webhooks_(prometheus::BuildCounter()
                    .Name("trainyard_webhooks_total")
                    .Help("Webhook requests answered, by result.")
                    .Register(registry)),
      auth_failures_(prometheus::BuildCounter()
                         .Name("trainyard_webhook_auth_failures_total")
                         .Help("Webhooks answered 401, by cause.")
                         .Register(registry)),
      ingested_(prometheus::BuildCounter()
                    .Name("trainyard_events_ingested_total")
                    .Help("Events stored (replays not counted), by type.")
                    .Register(registry)),
      ingest_seconds_(
          prometheus::BuildHistogram()
              .Name("trainyard_ingest_duration_seconds")
              .Help("Time of one ingest call, from validation to the durable "
                    "write and publication, in seconds.")
              .Register(registry)
              .Add({}, prometheus::Histogram::BucketBoundaries{
                           0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                           0.025, 0.05, 0.1, 0.25, 1})) {}

void IngestMetrics::Webhook(std::string_view result) {
  webhooks_.Add({{"result", std::string(result)}}).Increment();
}

void IngestMetrics::AuthFailure(std::string_view reason) {
  auth_failures_.Add({{"reason", std::string(reason)}}).Increment();
}

void IngestMetrics::Ingested(common::v1::EventType type) {
  std::string name = common::v1::EventType_Name(type);
  // "EVENT_TYPE_METRICS" -> "metrics"
  name = absl::AsciiStrToLower(name.substr(sizeof("EVENT_TYPE_") - 1));
  ingested_.Add({{"type", name}}).Increment();
}

void IngestMetrics::IngestSeconds(double seconds) {
  ingest_seconds_.Observe(seconds);
}

}  // namespace trainyard::metrics
