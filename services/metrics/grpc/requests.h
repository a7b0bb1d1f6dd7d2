// Copyright 2026 Trainyard authors.
//
// The handlers' one place to validate API requests and convert them into the
// typed queries the stores and views take (stores never see request protos).
// Every error is kInvalidArgument with a field violation naming the request
// field, as the API documents it.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "services/metrics/series/curve_query.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

// GetLossCurve (R-DASH-04, R-X-06), as documented on GetLossCurveRequest:
// series empty -> train_loss, val_loss, duplicates answered once, at most
// kMaxCurveSeries; start_step/end_step >= 0 and start <= end; last_steps >= 0
// and not with start/end; max_points >= 0, normalized (NormalizeMaxPoints).
// Fields: "job_id", "series", "start_step", "end_step", "last_steps",
// "max_points".
absl::StatusOr<CurveQuery> ParseGetLossCurve(
    const v1::GetLossCurveRequest& request);

// The curve of GetJobOverview and SubscribeJob for `job_id`, with the same
// rules; fields are named `field_prefix` + the option ("curve.max_points").
absl::StatusOr<CurveQuery> ParseCurveOptions(std::string_view job_id,
                                             const v1::CurveOptions& options,
                                             std::string_view field_prefix);

}  // namespace trainyard::metrics
