// Copyright 2026 Trainyard authors.
//
// The errors job-control gives, each built one way, and the machine codes it
// writes on jobs (failure codes, audit reasons). Reasons that other services
// give too are in common/status/reasons.h, each with one constructor:
// JOB_NOT_FOUND and ETAG_MISMATCH in common/status/errors.h, INVALID_PAGE_TOKEN
// in common/paging/opaque_token.h, INVALID_FILTER in
// common/search/filter_parser.h. Header only: every jobs library may include it
// (it needs nothing but ty_status and the common proto).
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/strings/absl_view.h"
#include "trainyard/common/v1/common.pb.h"

namespace trainyard::jobs {

// FAILED_PRECONDITION: the job's state forbids the command (jobs.proto names
// the reason per RPC). Build with JobStateError.
inline constexpr std::string_view kReasonJobTerminal = "JOB_TERMINAL";
inline constexpr std::string_view kReasonJobNotTraining = "JOB_NOT_TRAINING";
inline constexpr std::string_view kReasonJobNotPaused = "JOB_NOT_PAUSED";
inline constexpr std::string_view kReasonJobNotFailed = "JOB_NOT_FAILED";
inline constexpr std::string_view kReasonJobNotTerminal = "JOB_NOT_TERMINAL";
// FAILED_PRECONDITION: RetryJob's from_stage is not in failure.retryable_from.
inline constexpr std::string_view kReasonStageNotRetryable =
    "STAGE_NOT_RETRYABLE";
// PERMISSION_DENIED: an engineer steering a job someone else created.
inline constexpr std::string_view kReasonNotJobOwner = "NOT_JOB_OWNER";
// UNAVAILABLE: metrics did not answer for the loss-curve image.
inline constexpr std::string_view kReasonMetricsUnavailable =
    "METRICS_UNAVAILABLE";
// RESOURCE_EXHAUSTED: a WatchJobs subscriber too slow to keep up; it
// resubscribes from its last resume_token.
inline constexpr std::string_view kReasonSubscriberFellBehind =
    "SUBSCRIBER_FELL_BEHIND";
// The GPU provider refused a request (INVALID_ARGUMENT) or rate-limited it
// (RESOURCE_EXHAUSTED, metadata retry_after_ms).
inline constexpr std::string_view kReasonProviderRejected = "PROVIDER_REJECTED";
inline constexpr std::string_view kReasonProviderRateLimited =
    "PROVIDER_RATE_LIMITED";

// Failure codes (Job.failure.code, jobs.proto JobFailure) that job-control
// sets itself; a container's own code (e.g. CUDA_OOM) is passed through.
inline constexpr std::string_view kFailureContainerError = "CONTAINER_ERROR";
inline constexpr std::string_view kFailureContainerFailed = "CONTAINER_FAILED";
inline constexpr std::string_view kFailureProvisioningFailed =
    "PROVISIONING_FAILED";
inline constexpr std::string_view kFailureNoCapacity = "NO_CAPACITY";
inline constexpr std::string_view kFailureStartTimeout = "START_TIMEOUT";
inline constexpr std::string_view kFailureStallTimeout = "STALL_TIMEOUT";
inline constexpr std::string_view kFailureProviderFailure = "PROVIDER_FAILURE";
inline constexpr std::string_view kFailurePreemptedTooOften =
    "PREEMPTED_TOO_OFTEN";

// Machine reasons of system actions in the audit trail and state changes
// (AuditEntry.reason, the pause reason).
inline constexpr std::string_view kActionBudgetExceeded = "BUDGET_EXCEEDED";
inline constexpr std::string_view kActionSlotAssigned = "SLOT_ASSIGNED";
inline constexpr std::string_view kActionSpotInterruption = "SPOT_INTERRUPTION";

// A job state without its prefix: "TRAINING".
inline std::string JobStateName(common::v1::JobState state) {
  return common::v1::JobState_Name(state).substr(sizeof("JOB_STATE_") - 1);
}

// FAILED_PRECONDITION "job is <STATE>: <what>" with `reason` and metadata
// {state}.
inline absl::Status JobStateError(std::string_view reason,
                                  common::v1::JobState state,
                                  std::string_view what) {
  return WithReason(absl::FailedPreconditionError(absl::StrCat(
                        "job is ", JobStateName(state), ": ", ToAbsl(what))),
                    reason, {{"state", JobStateName(state)}});
}

// PERMISSION_DENIED (NOT_JOB_OWNER): the own-job rule of jobs.proto.
inline absl::Status NotJobOwnerError() {
  return WithReason(absl::PermissionDeniedError(
                        "engineers may change only jobs they created"),
                    kReasonNotJobOwner);
}

}  // namespace trainyard::jobs
