// Copyright 2026 Trainyard authors.
#include "common/status/ids.h"

#include <algorithm>

#include "common/status/errors.h"

namespace trainyard {

bool IsValidId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxIdLength &&
         std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
         });
}

absl::Status ValidateId(std::string_view field, std::string_view id) {
  if (id.empty()) return RequiredFieldError(field);
  if (!IsValidId(id)) {
    return InvalidFieldError(
        field, "must be 1 to 64 characters of a-z, 0-9, '_' and '-'");
  }
  return absl::OkStatus();
}

}  // namespace trainyard
