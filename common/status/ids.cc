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

std::optional<FieldViolation> IdViolation(std::string_view field,
                                          std::string_view id) {
  if (id.empty()) return FieldViolation{std::string(field), "required"};
  if (!IsValidId(id)) {
    return FieldViolation{
        std::string(field),
        "must be 1 to 64 characters of a-z, 0-9, '_' and '-'"};
  }
  return std::nullopt;
}

absl::Status ValidateId(std::string_view field, std::string_view id) {
  std::optional<FieldViolation> bad = IdViolation(field, id);
  return bad.has_value() ? InvalidFieldsError({*bad}) : absl::OkStatus();
}

}  // namespace trainyard
