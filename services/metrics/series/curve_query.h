// Copyright 2026 Trainyard authors.
//
// A loss-curve query (R-DASH-04, R-X-06) as SeriesStore::GetLossCurve takes
// it: validated and converted once from the API's request (GetLossCurve,
// GetJobOverview's and SubscribeJob's CurveOptions) by the handlers
// (services/metrics/grpc/requests.h), so the store never sees a request
// proto.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "services/metrics/series/downsample.h"

namespace trainyard::metrics {

inline constexpr size_t kMaxSeriesNameBytes = 128;
// A curve query names at most this many series.
inline constexpr int kMaxCurveSeries = 10;
// The series of a curve query that names none.
inline constexpr std::string_view kDefaultCurveSeries[] = {"train_loss",
                                                           "val_loss"};

struct CurveQuery {
  // Non-empty.
  std::string job_id;
  // 1..kMaxCurveSeries distinct names, each valid (ValidateSeriesName), in
  // the order they are answered.
  std::vector<std::string> series;
  // The requested step range, inclusive; open ends when unset. When both are
  // set, 0 <= start_step <= end_step.
  std::optional<int64_t> start_step;
  std::optional<int64_t> end_step;
  // > 0: the last `last_steps` steps up to the job's latest step (then
  // start_step and end_step are unset). 0: the range above.
  int64_t last_steps = 0;
  // Points per series, kMinMaxPoints..kMaxMaxPoints (NormalizeMaxPoints).
  int32_t max_points = kDefaultMaxPoints;
  // Also answer the rolled-back points of earlier attempts (R-X-06).
  bool include_rolled_back = false;
};

// OK when `name` can name a series: 1..kMaxSeriesNameBytes bytes; else
// kInvalidArgument naming `field`.
absl::Status ValidateSeriesName(std::string_view field, std::string_view name);

}  // namespace trainyard::metrics
