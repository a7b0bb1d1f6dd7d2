// Copyright 2026 Trainyard authors.
//
// The one place where absl::Status meets grpc::Status. Errors leave a service
// as google.rpc.Status details: always a google.rpc.ErrorInfo (reason
// UPPER_SNAKE, domain trainyard.dev) and, for bad input, a
// google.rpc.BadRequest with one FieldViolation per bad field.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace trainyard {

// absl → grpc for answers. Codes map one to one; the message is kept.
grpc::Status ToGrpcStatus(const absl::Status& status);

// grpc → absl for clients of our services: code, message, and the ErrorInfo /
// BadRequest details restored as payloads (so ErrorReason and FieldViolations
// work on the result).
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace trainyard
