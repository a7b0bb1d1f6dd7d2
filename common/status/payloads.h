// Copyright 2026 Trainyard authors.
//
// Payload type URLs under which errors.h stores details in an absl::Status.
// Internal to common/status.
#pragma once

#include <string_view>

namespace trainyard {

inline constexpr std::string_view kErrorInfoTypeUrl =
    "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr std::string_view kBadRequestTypeUrl =
    "type.googleapis.com/google.rpc.BadRequest";

}  // namespace trainyard
