// Copyright 2026 Trainyard authors.
//
// A rule's refusal as plain data. domain/ links no gRPC, so it cannot build
// the rich statuses of common/status/errors.h (whose library does); app/
// turns a Rejection into one (app/rejection_status.h) with the field
// violation and ErrorInfo reason it names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "absl/status/status.h"

namespace trainyard::cost {

struct Rejection {
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  std::string field;  // the API field at fault; "" when none
  // ErrorInfo reason, a constant of domain/errors.h; "" = the code's name.
  std::string_view reason;
  std::string message;
  bool operator==(const Rejection&) const = default;
};

// A value or the Rejection that stopped it.
template <typename T>
class Checked {
 public:
  Checked(T value) : v_(std::move(value)) {}  // NOLINT: implicit
  Checked(Rejection r) : v_(std::move(r)) {}  // NOLINT: implicit
  bool ok() const { return std::holds_alternative<T>(v_); }
  T& value() { return std::get<T>(v_); }
  const T& value() const { return std::get<T>(v_); }
  const Rejection& rejection() const { return std::get<Rejection>(v_); }

 private:
  std::variant<T, Rejection> v_;
};

}  // namespace trainyard::cost
