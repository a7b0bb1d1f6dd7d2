// Copyright 2026 Trainyard authors.
//
// The errors metrics-ingest gives, each built one way. Reasons that other
// services give too (JOB_NOT_FOUND, INVALID_PAGE_TOKEN, INVALID_FILTER) are in
// common/status/reasons.h. Header only: every metrics library may include it
// (it needs nothing but ty_status and ty_strings).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/ids.h"
#include "common/status/reasons.h"
#include "common/strings/absl_view.h"

namespace trainyard::metrics {

// The job has events, but none with the asked job_seq.
inline constexpr std::string_view kReasonEventNotFound = "EVENT_NOT_FOUND";

// NOT_FOUND (JOB_NOT_FOUND): metrics knows a job only once it has events.
inline absl::Status JobHasNoEvents(std::string_view job_id) {
  return JobNotFoundError(job_id, "has no events");
}

// NOT_FOUND (EVENT_NOT_FOUND) with metadata {job_id, job_seq}.
inline absl::Status EventNotFound(std::string_view job_id, uint64_t job_seq) {
  return WithReason(
      absl::NotFoundError(absl::StrCat("job ", ToAbsl(job_id),
                                       " has no event with job_seq ", job_seq)),
      kReasonEventNotFound,
      {{"job_id", std::string(job_id)}, {"job_seq", absl::StrCat(job_seq)}});
}

// The one job_id check of every request, webhook and read: the API's id
// rule (common/status/ids.h); handlers call it before anything reaches a
// store, so keys and export file names only ever hold valid ids.
inline absl::Status RequireJobId(std::string_view job_id) {
  return ValidateId("job_id", job_id);
}

}  // namespace trainyard::metrics
