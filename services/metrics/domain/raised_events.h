// Copyright 2026 Trainyard authors.
//
// The events metrics-ingest raises itself (source CONTROL_PLANE), built from
// the event or state that calls for them: the divergence warning when a
// loss stops being a number, the stall warning (R-X-07, DetectStall says
// when) and the INFO that clears a stall. Plain functions: `now` is passed
// in; ids derive from the causing event's job_seq, so raising is idempotent
// over a replay of the log.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"
#include "trainyard/common/v1/common.pb.h"
#include "trainyard/metrics/internal/job_state.pb.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

// The loss of `metrics` that is not a finite number ("train_loss" before
// "val_loss"), or nullopt when both are finite or unset.
std::optional<std::string_view> DivergedLoss(const v1::MetricsPayload& metrics);

// The WARNING raised for `metrics_event` (stored, job_seq set), whose
// `which` loss (DivergedLoss) is not a number: "Training diverged: ...".
v1::Event DivergenceWarning(const v1::Event& metrics_event,
                            std::string_view which);

// The text of a stall warning as of `now` (R-X-07), by reason.
std::string StallMessage(const v1::StallPayload& stall, absl::Time now);

// The WARNING that flags `state`'s job stalled at `now` with `stall`
// (DetectStall's answer), for the attempt running.
v1::Event StallWarning(const internal::JobState& state, v1::StallPayload stall,
                       absl::Time now);

// The INFO written when `event` (stored, job_seq set) ended the stall that
// `stalled` (the progress before it, flagged) describes: the job reports
// again, or can no longer stall (finished, paused, over).
v1::Event StallCleared(const v1::Event& event,
                       const common::v1::Progress& stalled);

}  // namespace trainyard::metrics
