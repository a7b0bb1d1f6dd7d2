// Copyright 2026 Trainyard authors.
#include "services/metrics/grpc/requests.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"
#include "services/metrics/domain/errors.h"

namespace trainyard::metrics {
namespace {

// The fields both requests share (CurveOptions is a subset of
// GetLossCurveRequest).
struct CurveFields {
  std::string_view job_id;
  const google::protobuf::RepeatedPtrField<std::string>& series;
  std::optional<int64_t> start_step;
  std::optional<int64_t> end_step;
  int64_t last_steps;
  int32_t max_points;
  bool include_rolled_back;
};

absl::StatusOr<CurveQuery> Parse(const CurveFields& in,
                                 std::string_view prefix) {
  auto field = [prefix](std::string_view name) {
    return absl::StrCat(ToAbsl(prefix), ToAbsl(name));
  };
  RETURN_IF_ERROR(RequireJobId(in.job_id));
  if (in.series.size() > kMaxCurveSeries) {
    return InvalidFieldError(
        field("series"), absl::StrCat("at most ", kMaxCurveSeries, " series"));
  }
  CurveQuery query;
  query.job_id = std::string(in.job_id);
  for (const std::string& name : in.series) {
    RETURN_IF_ERROR(ValidateSeriesName(field("series"), name));
    if (std::find(query.series.begin(), query.series.end(), name) ==
        query.series.end()) {
      query.series.push_back(name);
    }
  }
  if (query.series.empty()) {
    query.series.assign(std::begin(kDefaultCurveSeries),
                        std::end(kDefaultCurveSeries));
  }
  if (in.start_step && *in.start_step < 0) {
    return InvalidFieldError(field("start_step"), "must be >= 0");
  }
  if (in.end_step && *in.end_step < 0) {
    return InvalidFieldError(field("end_step"), "must be >= 0");
  }
  if (in.start_step && in.end_step && *in.start_step > *in.end_step) {
    return InvalidFieldError(field("start_step"), "must be <= end_step");
  }
  if (in.last_steps < 0) {
    return InvalidFieldError(field("last_steps"), "must be >= 0");
  }
  if (in.last_steps > 0 && (in.start_step || in.end_step)) {
    return InvalidFieldError(field("last_steps"),
                             "cannot be combined with start_step or end_step");
  }
  if (in.max_points < 0) {
    return InvalidFieldError(field("max_points"), "must be >= 0");
  }
  query.start_step = in.start_step;
  query.end_step = in.end_step;
  query.last_steps = in.last_steps;
  query.max_points = NormalizeMaxPoints(in.max_points);
  query.include_rolled_back = in.include_rolled_back;
  return query;
}

}  // namespace

absl::StatusOr<CurveQuery> ParseGetLossCurve(const v1::GetLossCurveRequest& r) {
  return Parse({.job_id = r.job_id(),
                .series = r.series(),
                .start_step = r.has_start_step() ? std::optional(r.start_step())
                                                 : std::nullopt,
                .end_step = r.has_end_step() ? std::optional(r.end_step())
                                             : std::nullopt,
                .last_steps = r.last_steps(),
                .max_points = r.max_points(),
                .include_rolled_back = r.include_rolled_back()},
               "");
}

absl::StatusOr<CurveQuery> ParseCurveOptions(std::string_view job_id,
                                             const v1::CurveOptions& o,
                                             std::string_view field_prefix) {
  return Parse({.job_id = job_id,
                .series = o.series(),
                .start_step = std::nullopt,
                .end_step = std::nullopt,
                .last_steps = o.last_steps(),
                .max_points = o.max_points(),
                .include_rolled_back = o.include_rolled_back()},
               field_prefix);
}

}  // namespace trainyard::metrics
