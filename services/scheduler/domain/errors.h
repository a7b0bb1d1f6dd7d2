// Copyright 2026 Trainyard authors.
//
// The errors the scheduler gives, each built one way. Reasons that other
// services give too are in common/status/reasons.h, each with one constructor:
// JOB_NOT_FOUND and ETAG_MISMATCH in common/status/errors.h, INVALID_PAGE_TOKEN
// in common/paging/opaque_token.h, INVALID_FILTER in
// common/search/filter_parser.h. Header only: every scheduler library may
// include it (it needs nothing but ty_status).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/strings/absl_view.h"

namespace trainyard::scheduler {

// The job is known but not waiting in the queue: NOT_FOUND from
// GetQueueEntry, FAILED_PRECONDITION from RequestPromotion (scheduler.proto).
inline constexpr std::string_view kReasonJobNotQueued = "JOB_NOT_QUEUED";
// FAILED_PRECONDITION: Enqueue of a newer attempt while the job holds a slot.
inline constexpr std::string_view kReasonJobHoldsSlot = "JOB_HOLDS_SLOT";
// FAILED_PRECONDITION: Enqueue of an attempt older than the one enqueued.
inline constexpr std::string_view kReasonStaleAttempt = "STALE_ATTEMPT";
// FAILED_PRECONDITION: RequestPromotion of a job already at the front.
inline constexpr std::string_view kReasonAlreadyPromoted = "ALREADY_PROMOTED";
// ALREADY_EXISTS: one pending promotion request per job.
inline constexpr std::string_view kReasonPromotionPending = "PROMOTION_PENDING";
// NOT_FOUND: no promotion has the id (build with PromotionNotFound).
inline constexpr std::string_view kReasonPromotionNotFound =
    "PROMOTION_NOT_FOUND";
// FAILED_PRECONDITION: the promotion was decided or expired.
inline constexpr std::string_view kReasonPromotionNotPending =
    "PROMOTION_NOT_PENDING";
// PERMISSION_DENIED: only a manager or an admin decides promotions.
inline constexpr std::string_view kReasonApproverRoleRequired =
    "APPROVER_ROLE_REQUIRED";
// PERMISSION_DENIED: the requester cannot decide their own promotion.
inline constexpr std::string_view kReasonSelfApproval = "SELF_APPROVAL";

// NOT_FOUND (JOB_NOT_QUEUED) with metadata {job_id}: GetQueueEntry.
inline absl::Status JobNotQueued(std::string_view job_id) {
  return WithReason(absl::NotFoundError(
                        absl::StrCat("job ", ToAbsl(job_id), " is not queued")),
                    kReasonJobNotQueued, {{"job_id", std::string(job_id)}});
}

// FAILED_PRECONDITION (JOB_NOT_QUEUED) with metadata {job_id}: a promotion
// of a job that is not waiting.
inline absl::Status JobNotQueuedForPromotion(std::string_view job_id) {
  return WithReason(absl::FailedPreconditionError(absl::StrCat(
                        "job ", ToAbsl(job_id),
                        " is not queued: only a queued job is promoted")),
                    kReasonJobNotQueued, {{"job_id", std::string(job_id)}});
}

// NOT_FOUND (PROMOTION_NOT_FOUND).
inline absl::Status PromotionNotFound(std::string_view promotion_id) {
  return WithReason(
      absl::NotFoundError(absl::StrCat("no promotion ", ToAbsl(promotion_id))),
      kReasonPromotionNotFound);
}

}  // namespace trainyard::scheduler
