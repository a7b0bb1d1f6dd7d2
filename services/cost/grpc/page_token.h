// Copyright 2026 Trainyard authors.
//
// Opaque page tokens and stream cursors: versioned, web-safe base64, bound
// to the query they continue. Same contract as common/paging/opaque_token.h
// (coming on main); swap to it when it lands.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace trainyard::cost {

std::string EncodeOpaqueToken(std::string_view kind, std::string_view binding,
                              std::string_view payload);

// The payload; INVALID_ARGUMENT naming `field`, reason INVALID_PAGE_TOKEN,
// when malformed or bound to another kind or query.
absl::StatusOr<std::string> DecodeOpaqueToken(std::string_view field,
                                              std::string_view kind,
                                              std::string_view binding,
                                              std::string_view token);

}  // namespace trainyard::cost
