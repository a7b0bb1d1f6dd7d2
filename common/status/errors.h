// Copyright 2026 Trainyard authors.
//
// Rich errors inside our code. An absl::Status may carry, as payloads:
//   - a google.rpc.ErrorInfo reason (UPPER_SNAKE, domain "trainyard.dev") and
//     metadata, for clients that branch on the cause, and
//   - google.rpc.BadRequest field violations naming each bad field.
// grpc_status.h turns them into grpc::Status details in exactly one place.
//
// For example, a handler rejects a bad page size with
// InvalidFieldError("page_size", "must not be negative"), and a write to a
// finished job with WithReason(absl::FailedPreconditionError("job is
// COMPLETED"), "JOB_TERMINAL"). Reasons more than one service gives are
// named in reasons.h.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace trainyard {

// The google.rpc.ErrorInfo domain of every error this suite produces.
inline constexpr std::string_view kErrorDomain = "trainyard.dev";

struct FieldViolation {
  std::string
      field;  // path of the field, e.g. "spec.hyperparameters.lora_rank"
  std::string description;  // why it is bad, for a human
  bool operator==(const FieldViolation&) const = default;
};

// INVALID_ARGUMENT with one field violation and reason INVALID_ARGUMENT. The
// message is "<field>: <description>".
absl::Status InvalidFieldError(std::string_view field,
                               std::string_view description);

// INVALID_ARGUMENT listing every violation; message joins them with "; ".
// REQUIRES: !violations.empty().
absl::Status InvalidFieldsError(const std::vector<FieldViolation>& violations);

// INVALID_ARGUMENT "<field>: required": the one wording for a missing field.
absl::Status RequiredFieldError(std::string_view field);

// INVALID_ARGUMENT with reason MALFORMED_REQUEST: the request's bytes do not
// parse as `message_type` (its full proto name), so no field can be named.
absl::Status MalformedRequestError(std::string_view message_type);

// NOT_FOUND "job <job_id> <what>" with reason JOB_NOT_FOUND and metadata
// {job_id}: the one way a service says it knows nothing of a job.
absl::Status JobNotFoundError(std::string_view job_id, std::string_view what);

// ABORTED "<what> changed since it was read (etag is now <current_etag>);
// read it again" with reason ETAG_MISMATCH: the one way a service refuses a
// stale etag (AIP-154).
absl::Status EtagMismatchError(std::string_view what,
                               std::string_view current_etag);

// Returns `status` with an ErrorInfo reason (UPPER_SNAKE) and metadata
// attached. An OK status is returned unchanged.
absl::Status WithReason(
    absl::Status status, std::string_view reason,
    const std::map<std::string, std::string>& metadata = {});

// The reason attached by WithReason, or the canonical code name in UPPER_SNAKE
// ("NOT_FOUND") when there is none; "" for OK.
std::string ErrorReason(const absl::Status& status);

// Metadata attached by WithReason (empty when none).
std::map<std::string, std::string> ErrorMetadata(const absl::Status& status);

// Field violations carried by `status` (empty when none).
std::vector<FieldViolation> FieldViolations(const absl::Status& status);

// The canonical UPPER_SNAKE name of a code, e.g. "INVALID_ARGUMENT".
std::string CodeName(absl::StatusCode code);

}  // namespace trainyard
