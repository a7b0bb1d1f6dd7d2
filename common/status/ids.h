// Copyright 2026 Trainyard authors.
//
// The id rule of the API (trainyard/common/v1/common.proto, "Identifiers"):
// ids are 1..64 characters of [a-z0-9_-]. One check and one error text for
// every service and path (gRPC requests, webhook URLs, reads), so that ids
// are safe in keys, URLs and file names (no "../", no upper case, no spaces).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "common/status/errors.h"

namespace trainyard {

inline constexpr size_t kMaxIdLength = 64;

// True when `id` follows the rule.
bool IsValidId(std::string_view id);

// OK, or INVALID_ARGUMENT with a field violation on `field`: "<field>:
// required" when empty, else "<field>: must be 1 to 64 characters of a-z,
// 0-9, '_' and '-'".
absl::Status ValidateId(std::string_view field, std::string_view id);

// The same check for a request that lists every bad field at once: the
// violation ValidateId would report, or nullopt.
std::optional<FieldViolation> IdViolation(std::string_view field,
                                          std::string_view id);

}  // namespace trainyard
