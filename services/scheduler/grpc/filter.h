// Copyright 2026 Trainyard authors.
//
// Binds the scheduler's list filters (the API's one AIP-160 grammar, parsed
// by common/search) to field rules: which fields a list accepts and with
// which operators. Each term is one field: `field op value`, or an OR group of
// `=` on that field (`(state = PENDING OR state = APPROVED)`). Enum values may
// be given with or without their prefix ("BALANCED", "PRESET_BALANCED").
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/search/filter_parser.h"

namespace trainyard::scheduler {

// The operators a field accepts besides `=`.
struct FieldRule {
  bool not_equal = false;  // !=
  bool ordered = false;    // < <= > >=
};

struct FilterClause {
  std::string field;
  FilterOp op = FilterOp::kEq;
  // One value, or several for an OR group (op is then kEq).
  std::vector<std::string> values;
};

// Parses `filter` and checks each term against `fields`. INVALID_ARGUMENT
// (reason INVALID_FILTER, field `filter`) naming the field or operator that
// is not accepted.
absl::StatusOr<std::vector<FilterClause>> ParseListFilter(
    std::string_view filter, const std::map<std::string, FieldRule>& fields);

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
