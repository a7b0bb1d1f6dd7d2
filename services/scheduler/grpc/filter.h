// Copyright 2026 Trainyard authors.
//
// The AIP-160 subset the scheduler's lists accept: clauses `field = value` or
// `field != value` joined by AND; values bare or double-quoted. Enum values
// may be given with or without their prefix ("BALANCED", "PRESET_BALANCED").
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace trainyard::scheduler {

struct FilterClause {
  std::string field;
  bool negate = false;
  std::string value;
};

// `fields`: the accepted field names, each with whether != is allowed.
// INVALID_ARGUMENT naming `filter` for anything else.
absl::StatusOr<std::vector<FilterClause>> ParseFilter(
    std::string_view filter, const std::map<std::string, bool>& fields);

// The number of enum value `text` (full name, or without `prefix`).
// INVALID_ARGUMENT naming `filter` when unknown. `parse` is the generated
// Enum_Parse.
template <typename Enum>
absl::StatusOr<Enum> ParseEnumValue(std::string_view text,
                                    std::string_view prefix,
                                    bool (*parse)(const std::string&, Enum*));

absl::Status FilterValueError(std::string_view field, std::string_view value);

template <typename Enum>
absl::StatusOr<Enum> ParseEnumValue(std::string_view text,
                                    std::string_view prefix,
                                    bool (*parse)(const std::string&, Enum*)) {
  Enum value;
  std::string name(text);
  if (parse(name, &value) || parse(std::string(prefix) + name, &value)) {
    return value;
  }
  return FilterValueError(prefix, text);
}

}  // namespace trainyard::scheduler
