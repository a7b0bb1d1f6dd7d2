// Copyright 2026 Trainyard authors.
//
// The scheduler's opaque tokens: list page tokens (bound to the query they
// continue) and the WatchAssignments cursor (an assignment sequence number).
// Malformed or foreign tokens are INVALID_ARGUMENT naming the field, reason
// INVALID_PAGE_TOKEN.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace trainyard::scheduler {

// A token for the page after `offset` matches of the query `binding`
// (filter + order) of list `kind`.
std::string EncodePageToken(std::string_view kind, std::string_view binding,
                            int64_t offset);
absl::StatusOr<int64_t> DecodePageToken(std::string_view kind,
                                        std::string_view binding,
                                        std::string_view token);

std::string EncodeAssignmentCursor(uint64_t seq);
// Empty = 0 (from the oldest held assignment). Errors name `field`.
absl::StatusOr<uint64_t> DecodeAssignmentCursor(std::string_view field,
                                                std::string_view cursor);

}  // namespace trainyard::scheduler
