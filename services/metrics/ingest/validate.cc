// Copyright 2026 Trainyard authors.
#include "services/metrics/ingest/validate.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/time/proto_time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/metrics/domain/errors.h"

namespace trainyard::metrics {
namespace {

using common::v1::EventType;

// Only losses may be NaN or infinite (webhooks.md); every other number is
// finite.
absl::Status CheckRatio(std::string_view field, bool present, double v) {
  if (present && !(v >= 0 && v <= 1)) {
    return InvalidFieldError(field, "must be a ratio between 0 and 1");
  }
  return absl::OkStatus();
}

absl::Status CheckNonNegative(std::string_view field, bool present, double v) {
  if (present && !(v >= 0 && std::isfinite(v))) {
    return InvalidFieldError(field, "must be a finite number, not negative");
  }
  return absl::OkStatus();
}

absl::Status CheckFinite(std::string_view field, bool present, double v) {
  if (present && !std::isfinite(v)) {
    return InvalidFieldError(field, "must be a finite number");
  }
  return absl::OkStatus();
}

bool IsExtraKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

// metrics.proto: keys 1..64 chars [A-Za-z0-9_.-], at most 32, finite values.
absl::Status ValidateExtra(
    const google::protobuf::Map<std::string, double>& m) {
  if (m.size() > kMaxExtraKeys) {
    return InvalidFieldError("metrics.extra",
                             absl::StrCat("at most ", kMaxExtraKeys, " keys"));
  }
  for (const auto& [key, value] : m) {
    if (key.empty() || key.size() > kMaxExtraKeyChars ||
        !std::all_of(key.begin(), key.end(), IsExtraKeyChar)) {
      return InvalidFieldError(
          "metrics.extra",
          "keys must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.' and "
          "'-'");
    }
    RETURN_IF_ERROR(
        CheckFinite(absl::StrCat("metrics.extra.", key), true, value));
  }
  return absl::OkStatus();
}

// Open proto3 enums keep numbers this build does not know: refuse them.
template <typename IsValid>
absl::Status CheckEnum(std::string_view field, int value, IsValid is_valid) {
  if (!is_valid(value)) {
    return InvalidFieldError(field, absl::StrCat("unknown value ", value));
  }
  return absl::OkStatus();
}

absl::Status ValidateLifecycle(const v1::LifecyclePayload& l) {
  RETURN_IF_ERROR(CheckEnum("lifecycle.job_state", l.job_state(),
                            common::v1::JobState_IsValid));
  RETURN_IF_ERROR(CheckEnum("lifecycle.previous_state", l.previous_state(),
                            common::v1::JobState_IsValid));
  RETURN_IF_ERROR(CheckEnum("lifecycle.actor_role", l.actor_role(),
                            common::v1::Role_IsValid));
  RETURN_IF_ERROR(CheckEnum("lifecycle.gpu_type", l.gpu_type(),
                            common::v1::GpuType_IsValid));
  return CheckEnum("lifecycle.pricing", l.pricing(),
                   common::v1::Pricing_IsValid);
}

// Anything that parses as a JSON value (object, array, string, number, ...).
bool IsJson(const std::string& text) {
  google::protobuf::Value value;
  return google::protobuf::util::JsonStringToMessage(text, &value).ok();
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
                         m.learning_rate()),
        CheckFinite("metrics.grad_norm", m.has_grad_norm(), m.grad_norm()),
        CheckFinite("metrics.perplexity", m.has_perplexity(),
                    m.perplexity())}) {
    if (!s.ok()) return s;
  }
  return ValidateExtra(m.extra());
}

absl::Status ValidateStatus(const v1::StatusPayload& s) {
  RETURN_IF_ERROR(
      CheckEnum("status.stage", s.stage(), common::v1::Stage_IsValid));
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
  if (p == P::kLifecycle) return ValidateLifecycle(e.lifecycle());
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateIngestEvent(const v1::IngestEvent& e, absl::Time now,
                                 const ValidationLimits& limits) {
  RETURN_IF_ERROR(RequireJobId(e.job_id()));
  if (e.event_id().empty()) return InvalidFieldError("event_id", "required");
  if (e.event_id().size() > kMaxEventIdBytes) {
    return InvalidFieldError("event_id", "at most 128 bytes");
  }
  if (e.attempt() < 1)
    return InvalidFieldError("attempt", "must be at least 1");
  RETURN_IF_ERROR(
      CheckEnum("source", e.source(), common::v1::EventSource_IsValid));
  bool control = e.source() == common::v1::EVENT_SOURCE_CONTROL_PLANE;
  // metrics.proto: control-plane events carry a lifecycle or are WARNING or
  // INFO; progress and metrics come from the container only.
  if (control && e.type() != common::v1::EVENT_TYPE_STATUS &&
      e.type() != common::v1::EVENT_TYPE_WARNING &&
      e.type() != common::v1::EVENT_TYPE_INFO) {
    return InvalidFieldError(
        "type",
        "control-plane events are STATUS (with a lifecycle), "
        "WARNING or INFO");
  }
  if (control && e.type() == common::v1::EVENT_TYPE_STATUS &&
      e.payload_case() != v1::IngestEvent::kLifecycle) {
    return InvalidFieldError("lifecycle",
                             "required for a control-plane status event");
  }
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
  if (limits.check_raw_json && !e.raw_json().empty() && !IsJson(e.raw_json())) {
    return InvalidFieldError("raw_json", "must be JSON");
  }
  return ValidatePayload(e);
}

}  // namespace trainyard::metrics
