// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/sim/pod_event.h
// -----------------------------------------------------------------------------
// One report of a training container, and its wire form: the JSON body and
// webhook-id of shared/docs/webhooks.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace trainyard::gpusim {

enum class EventType {
  kStatus,
  kMetrics,
  kCheckpoint,
  kWarning,
  kError,
  kInfo
};

// "status", "metrics", ... as the body's "type".
std::string_view EventTypeName(EventType type);

struct StatusPayload {
  std::string stage;  // webhook stage name
  std::string substatus;
  std::optional<double> stage_progress;  // 0..100
  std::optional<int64_t> resumed_from_step;
};

// Absent optionals are left out of the body.
struct MetricsPayload {
  int64_t step = 0;
  int64_t total_steps = 0;
  int64_t epoch = 0;
  int64_t total_epochs = 0;
  std::optional<double> train_loss;  // NaN/Inf are sent as "NaN", ...
  std::optional<double> val_loss;
  std::optional<double> learning_rate;
  std::string lr_schedule;
  std::optional<double> grad_norm;
  std::optional<double> gpu_utilization;  // 0..1
  std::optional<int64_t> gpu_memory_used_bytes;
  std::optional<int64_t> gpu_memory_total_bytes;
  std::optional<double> tokens_per_second;
  std::optional<double> perplexity;
};

struct CheckpointPayload {
  int64_t step = 0;
  std::string uri;
  int64_t size_bytes = 0;
};

struct ErrorPayload {
  std::string code;
  std::string message;
  std::string details;
};

struct PodEvent {
  EventType type = EventType::kInfo;
  int64_t attempt = 1;
  int64_t seq = 0;  // per attempt, from 1, no gaps
  absl::Time time;  // when it happened in the container
  std::string message;
  // Set according to `type` (webhooks.md): status for kStatus (and
  // optionally kWarning/kInfo), metrics for kMetrics, and so on.
  std::optional<StatusPayload> status;
  std::optional<MetricsPayload> metrics;
  std::optional<CheckpointPayload> checkpoint;
  std::optional<ErrorPayload> error;
};

// "evt_{attempt}_{seq}".
std::string WebhookId(const PodEvent& event);

// The JSON body, fields in the order of webhooks.md, times in RFC 3339 UTC
// with milliseconds.
std::string EventBody(const PodEvent& event);

}  // namespace trainyard::gpusim
