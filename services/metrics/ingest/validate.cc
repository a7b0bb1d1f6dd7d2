// Copyright 2026 Trainyard authors.
#include "services/metrics/ingest/validate.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/time/proto_time.h"
#include "services/metrics/domain/errors.h"

namespace trainyard::metrics {
namespace {

using common::v1::EventType;

absl::Status CheckRatio(std::string_view field, bool present, double v) {
  if (present && std::isfinite(v) && (v < 0 || v > 1)) {
    return InvalidFieldError(field, "must be a ratio between 0 and 1");
  }
  return absl::OkStatus();
}

absl::Status CheckNonNegative(std::string_view field, bool present, double v) {
  if (present && v < 0) return InvalidFieldError(field, "must not be negative");
  return absl::OkStatus();
}

absl::Status ValidateMetrics(const v1::MetricsPayload& m) {
  if (m.step() < 0)
    return InvalidFieldError("metrics.step", "must not be negative");
  if (m.has_total_steps() && m.total_steps() < m.step()) {
    return InvalidFieldError("metrics.total_steps",
                             "must not be less than metrics.step");
  }
  if (m.has_epoch() && m.epoch() < 0) {
    return InvalidFieldError("metrics.epoch", "must not be negative");
  }
  if (m.has_total_epochs() && m.has_epoch() && m.total_epochs() < m.epoch()) {
    return InvalidFieldError("metrics.total_epochs",
                             "must not be less than metrics.epoch");
  }
  for (absl::Status s :
       {CheckRatio("metrics.gpu_utilization", m.has_gpu_utilization(),
                   m.gpu_utilization()),
        CheckNonNegative("metrics.gpu_memory_used_bytes",
                         m.has_gpu_memory_used_bytes(),
                         static_cast<double>(m.gpu_memory_used_bytes())),
        CheckNonNegative("metrics.gpu_memory_total_bytes",
                         m.has_gpu_memory_total_bytes(),
                         static_cast<double>(m.gpu_memory_total_bytes())),
        CheckNonNegative("metrics.tokens_per_second", m.has_tokens_per_second(),
                         m.tokens_per_second()),
        CheckNonNegative("metrics.learning_rate", m.has_learning_rate(),
                         m.learning_rate())}) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ValidateStatus(const v1::StatusPayload& s) {
  if (s.has_stage_progress() &&
      !(s.stage_progress() >= 0 && s.stage_progress() <= 100)) {
    return InvalidFieldError("status.stage_progress",
                             "must be a percent between 0 and 100");
  }
  if (s.has_resumed_from_step() && s.resumed_from_step() < 0) {
    return InvalidFieldError("status.resumed_from_step",
                             "must not be negative");
  }
  return absl::OkStatus();
}

// The payload each type needs (metrics.proto, IngestEvent.payload).
absl::Status ValidatePayload(const v1::IngestEvent& e) {
  using P = v1::IngestEvent::PayloadCase;
  P p = e.payload_case();
  switch (e.type()) {
    case common::v1::EVENT_TYPE_STATUS:
      if (p != P::kStatus && p != P::kLifecycle) {
        return InvalidFieldError("status", "required for a status event");
      }
      break;
    case common::v1::EVENT_TYPE_METRICS:
      if (p != P::kMetrics) {
        return InvalidFieldError("metrics", "required for a metrics event");
      }
      break;
    case common::v1::EVENT_TYPE_CHECKPOINT:
      if (p != P::kCheckpoint) {
        return InvalidFieldError("checkpoint",
                                 "required for a checkpoint event");
      }
      if (e.checkpoint().step() < 0) {
        return InvalidFieldError("checkpoint.step", "must not be negative");
      }
      if (const std::string& reason = e.checkpoint().reason();
          !reason.empty() && reason != kCheckpointPeriodic &&
          reason != kCheckpointStop) {
        return InvalidFieldError(
            "checkpoint.reason",
            absl::StrCat("unknown reason \"", reason, "\" (periodic, stop)"));
      }
      break;
    case common::v1::EVENT_TYPE_ERROR:
      if (p != P::kError) {
        return InvalidFieldError("error", "required for an error event");
      }
      break;
    case common::v1::EVENT_TYPE_WARNING:
    case common::v1::EVENT_TYPE_INFO:
      if (e.message().empty()) {
        return InvalidFieldError("message",
                                 "required for warning and info events");
      }
      if (p != P::PAYLOAD_NOT_SET && p != P::kStatus && p != P::kLifecycle) {
        return InvalidFieldError(
            "type", "warning and info events carry only a message or status");
      }
      break;
    default:
      return InvalidFieldError(
          "type",
          "must be status, metrics, checkpoint, warning, error or info");
  }
  if (p == P::kMetrics) return ValidateMetrics(e.metrics());
  if (p == P::kStatus) return ValidateStatus(e.status());
  if (p == P::kLifecycle &&
      e.source() != common::v1::EVENT_SOURCE_CONTROL_PLANE) {
    return InvalidFieldError("lifecycle",
                             "only control-plane events carry a lifecycle");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateIngestEvent(const v1::IngestEvent& e, absl::Time now,
                                 const ValidationLimits& limits) {
  RETURN_IF_ERROR(RequireJobId(e.job_id()));
  if (e.job_id().size() > 128) {
    return InvalidFieldError("job_id", "at most 128 bytes");
  }
  if (e.event_id().empty()) return InvalidFieldError("event_id", "required");
  if (e.event_id().size() > kMaxEventIdBytes) {
    return InvalidFieldError("event_id", "at most 128 bytes");
  }
  if (e.attempt() < 1)
    return InvalidFieldError("attempt", "must be at least 1");
  bool control = e.source() == common::v1::EVENT_SOURCE_CONTROL_PLANE;
  if (!control && e.attempt_seq() < 1) {
    return InvalidFieldError("attempt_seq", "must be at least 1");
  }
  if (!e.has_occurred_time())
    return InvalidFieldError("occurred_time", "required");
  if (limits.bound_occurred_time &&
      FromProto(e.occurred_time()) > now + kMaxFutureSkew) {
    return InvalidFieldError("occurred_time",
                             "more than 5 minutes in the future");
  }
  size_t chars = 0;  // UTF-8 code points: bytes that do not continue one
  for (unsigned char c : e.message()) chars += (c & 0xC0) != 0x80;
  if (chars > kMaxMessageChars) {
    return InvalidFieldError("message", "at most 4,000 characters");
  }
  if (e.raw_json().size() > limits.max_raw_json_bytes) {
    return InvalidFieldError(
        "raw_json",
        absl::StrCat("at most ", limits.max_raw_json_bytes, " bytes"));
  }
  return ValidatePayload(e);
}

}  // namespace trainyard::metrics
