// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: services/jobs/views/loss_curve_image.h
// -----------------------------------------------------------------------------
//
// The loss-curve PNG (R-DASH-08, R-X-06), drawn with Cairo: a title with the
// job's name, the step axis from the first point to the latest step, the
// first series (training loss) on the left axis and the second (validation
// loss) on the right axis, each with ticks, grid and label; further series
// share the left axis. Rolled-back attempts' series are drawn faded in their
// effective series' colour and on its axis. A curve with no points draws the
// axes and says so.
//
// Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "trainyard/common/v1/common.pb.h"

namespace trainyard::jobs {

inline constexpr int kCurveImageDefaultWidth = 2000;
inline constexpr int kCurveImageDefaultHeight = 1200;
inline constexpr int kCurveImageMinSide = 200;
inline constexpr int kCurveImageMaxSide = 4000;

// Series colours (RGB), in request order: blue, orange, green, red, purple.
struct Rgb {
  uint8_t r, g, b;
};
Rgb CurveSeriesColour(int index);

// PNG bytes of `curve` at width x height pixels, titled `title`.
// REQUIRES: both sides within [kCurveImageMinSide, kCurveImageMaxSide].
// kInternal when Cairo fails.
absl::StatusOr<std::string> RenderLossCurvePng(
    const common::v1::LossCurve& curve, std::string_view title, int width,
    int height);

// "{job_name}-loss-curve-{yyyyMMdd-HHmmss}.png": the display name lower-cased
// with each run of characters other than [a-z0-9] made one "-" (trimmed, at
// most 80 characters; "job" when nothing is left), `now` in UTC.
std::string LossCurveFilename(std::string_view display_name, absl::Time now);

}  // namespace trainyard::jobs
