// Copyright 2026 Trainyard authors.
#include "services/metrics/domain/raised_events.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/strings/absl_view.h"
#include "common/time/proto_time.h"

namespace trainyard::metrics {
namespace {

// An event metrics raises for the job, attempt and times given.
v1::Event Raised(std::string_view job_id, std::string event_id,
                 common::v1::EventType type, int32_t attempt,
                 const google::protobuf::Timestamp& occurred,
                 const google::protobuf::Timestamp& received) {
  v1::Event e;
  e.set_job_id(std::string(job_id));
  e.set_event_id(std::move(event_id));
  e.set_type(type);
  e.set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
  e.set_attempt(attempt);
  *e.mutable_occurred_time() = occurred;
  *e.mutable_receive_time() = received;
  return e;
}

}  // namespace

std::optional<std::string_view> DivergedLoss(const v1::MetricsPayload& m) {
  if (m.has_train_loss() && !std::isfinite(m.train_loss())) {
    return "train_loss";
  }
  if (m.has_val_loss() && !std::isfinite(m.val_loss())) return "val_loss";
  return std::nullopt;
}

v1::Event DivergenceWarning(const v1::Event& metrics_event,
                            std::string_view which) {
  v1::Event w =
      Raised(metrics_event.job_id(),
             absl::StrCat("divergence_", metrics_event.job_seq()),
             common::v1::EVENT_TYPE_WARNING, metrics_event.attempt(),
             metrics_event.occurred_time(), metrics_event.receive_time());
  const double value = which == "train_loss"
                           ? metrics_event.metrics().train_loss()
                           : metrics_event.metrics().val_loss();
  w.set_message(absl::StrFormat(
      "Training diverged: %s is %g at step %d (event %s)", ToAbsl(which), value,
      metrics_event.metrics().step(), metrics_event.event_id()));
  return w;
}

std::string StallMessage(const v1::StallPayload& stall, absl::Time now) {
  const std::string silence = absl::FormatDuration(
      absl::Trunc(now - FromProto(stall.since()), absl::Seconds(1)));
  switch (stall.reason()) {
    case common::v1::STALL_REASON_METRIC_SILENCE:
      return absl::StrCat("No metrics for ", silence,
                          " while training (other events still arrive): it "
                          "may be stuck");
    case common::v1::STALL_REASON_SUSPECTED_PREEMPTION:
      return absl::StrCat("No event for ", silence,
                          " from a spot pod: it was probably preempted");
    case common::v1::STALL_REASON_SPEED_DROP:
      return absl::StrFormat(
          "Training slowed to %.3g s/step, %.1fx its baseline of %.3g s/step",
          stall.seconds_per_step(),
          stall.seconds_per_step() / stall.baseline_seconds_per_step(),
          stall.baseline_seconds_per_step());
    default:
      return absl::StrCat("No event for ", silence,
                          " while the job is active: it may be stalled");
  }
}

v1::Event StallWarning(const internal::JobState& state, v1::StallPayload stall,
                       absl::Time now) {
  const google::protobuf::Timestamp at = ToProto(now);
  v1::Event e = Raised(
      state.job_id(), absl::StrCat("stall_", state.last_job_seq()),
      common::v1::EVENT_TYPE_WARNING, state.progress().attempt(), at, at);
  e.set_message(StallMessage(stall, now));
  *e.mutable_stall() = std::move(stall);
  return e;
}

v1::Event StallCleared(const v1::Event& event,
                       const common::v1::Progress& stalled) {
  v1::Event info =
      Raised(event.job_id(), absl::StrCat("stall_cleared_", event.job_seq()),
             common::v1::EVENT_TYPE_INFO, stalled.attempt(),
             event.receive_time(), event.receive_time());
  const absl::Duration duration = absl::Trunc(
      FromProto(event.receive_time()) - FromProto(stalled.stalled_since()),
      absl::Seconds(1));
  const std::string reason =
      common::v1::StallReason_Name(stalled.stall_reason());
  info.set_message(absl::StrCat(
      "Stall cleared after ", absl::FormatDuration(duration), " (",
      absl::StripPrefix(reason, "STALL_REASON_"), "): the job reports again"));
  v1::StallPayload* payload = info.mutable_stall();
  payload->set_reason(stalled.stall_reason());
  *payload->mutable_since() = stalled.stalled_since();
  *payload->mutable_last_event_time() = event.occurred_time();
  payload->set_cleared(true);
  return info;
}

}  // namespace trainyard::metrics
