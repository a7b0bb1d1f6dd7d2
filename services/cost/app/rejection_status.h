// Copyright 2026 Trainyard authors.
//
// A domain Rejection as the rich absl::Status the API answers with
// (common/status/errors.h: field violation and ErrorInfo reason).
#pragma once

#include "absl/status/statusor.h"
#include "common/status/errors.h"
#include "services/cost/domain/rejection.h"

namespace trainyard::cost {

inline absl::Status ToStatus(const Rejection& r) {
  absl::Status status = r.field.empty() ? absl::Status(r.code, r.message)
                                        : InvalidFieldError(r.field, r.message);
  if (!r.field.empty() && r.code != absl::StatusCode::kInvalidArgument) {
    status = absl::Status(r.code, status.message());
  }
  return r.reason.empty() ? status : WithReason(status, r.reason);
}

template <typename T>
absl::StatusOr<T> ToStatusOr(Checked<T> checked) {
  if (!checked.ok()) return ToStatus(checked.rejection());
  return std::move(checked.value());
}

}  // namespace trainyard::cost
