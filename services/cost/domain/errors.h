// Copyright 2026 Trainyard authors.
//
// The errors cost gives, each built one way. Reasons that other services give
// too are in common/status/reasons.h, each with one constructor: JOB_NOT_FOUND
// and ETAG_MISMATCH in common/status/errors.h, INVALID_PAGE_TOKEN in
// common/paging/opaque_token.h, INVALID_FILTER in
// common/search/filter_parser.h. Header only: domain/ puts the reasons in its
// Rejections (rejection.h); storage/ and app/ build statuses with them (they
// link ty_status).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/strings/absl_view.h"

namespace trainyard::cost {

// FAILED_PRECONDITION: a meter opened on a job whose cost is final.
inline constexpr std::string_view kReasonJobCostFinal = "JOB_COST_FINAL";
// INVALID_ARGUMENT: a meter overlapping one of the same phase.
inline constexpr std::string_view kReasonMeterOverlap = "METER_OVERLAP";
// INVALID_ARGUMENT: a close of a closed meter that does not repeat its close.
inline constexpr std::string_view kReasonMeterAlreadyClosed =
    "METER_ALREADY_CLOSED";
// NOT_FOUND with metadata {meter_id} (build with MeterNotFound).
inline constexpr std::string_view kReasonMeterNotFound = "METER_NOT_FOUND";
// INVALID_ARGUMENT: a rate change beyond the factor allowed without force.
inline constexpr std::string_view kReasonRateChangeTooLarge =
    "RATE_CHANGE_TOO_LARGE";
// INVALID_ARGUMENT: a GPU type the rate card does not list, or lists as
// unavailable.
inline constexpr std::string_view kReasonUnknownGpuType = "UNKNOWN_GPU_TYPE";
inline constexpr std::string_view kReasonGpuTypeUnavailable =
    "GPU_TYPE_UNAVAILABLE";

// NOT_FOUND (METER_NOT_FOUND) with metadata {meter_id}.
inline absl::Status MeterNotFound(std::string_view meter_id) {
  return WithReason(
      absl::NotFoundError(absl::StrCat("meter_id: no meter ", ToAbsl(meter_id),
                                       " was opened (or its job's data "
                                       "was deleted)")),
      kReasonMeterNotFound, {{"meter_id", std::string(meter_id)}});
}

}  // namespace trainyard::cost
