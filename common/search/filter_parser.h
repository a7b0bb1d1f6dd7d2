// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: common/search/filter_parser.h
// -----------------------------------------------------------------------------
//
// The AIP-160 subset of the API's list filters (trainyard/common/v1/
// common.proto, "Filters"), parsed into a syntax tree that knows nothing about
// fields; filter_binder.h binds field names, operators and values to a list's
// fields.
//
//   filter      = term { "AND" term }
//   term        = restriction | "(" restriction { "OR" restriction } ")"
//   restriction = field op value
//   op          = "=" | "!=" | "<" | "<=" | ">" | ">=" | ":"
//   value       = bare word | "double-quoted string"
//
// OR only joins restrictions on the same field, inside parentheses. AND and OR
// are upper case. NOT, "-", functions and bare terms are rejected. At most
// 2,000 characters and 20 restrictions.
//
// Pure functions: thread-safe.

#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace trainyard {

enum class FilterOp { kEq, kNe, kLt, kLe, kGt, kGe, kHas };

// The operator as written ("=", "!=", ..., ":").
std::string_view FilterOpText(FilterOp op);

// `lhs op rhs` for the comparison operators; false for ":" (has), which
// callers bind to their own matching.
template <typename T>
bool FilterCompare(FilterOp op, const T& lhs, const T& rhs) {
  switch (op) {
    case FilterOp::kEq:
      return lhs == rhs;
    case FilterOp::kNe:
      return lhs != rhs;
    case FilterOp::kLt:
      return lhs < rhs;
    case FilterOp::kLe:
      return lhs <= rhs;
    case FilterOp::kGt:
      return lhs > rhs;
    case FilterOp::kGe:
      return lhs >= rhs;
    case FilterOp::kHas:
      return false;
  }
  return false;
}

struct FilterValue {
  // True for a "double-quoted string" (with \" and \\ unescaped in `text`),
  // false for a bare word (enum value, number, true/false).
  bool quoted = false;
  std::string text;
};

struct FilterRestriction {
  std::string field;
  FilterOp op = FilterOp::kEq;
  FilterValue value;
  // Byte offset of the restriction in the filter, for error messages.
  size_t position = 0;
};

// Restrictions joined by OR (one, or several on the same field).
struct FilterTerm {
  std::vector<FilterRestriction> any_of;
};

// Terms joined by AND; empty for an empty (or all-blank) filter.
struct ParsedFilter {
  std::vector<FilterTerm> all_of;
};

inline constexpr size_t kMaxFilterLength = 2000;
inline constexpr size_t kMaxFilterRestrictions = 20;

// Parses `filter`. Errors are INVALID_ARGUMENT with reason INVALID_FILTER and a
// field violation on "filter" whose description names the problem and its
// position, e.g. `expected an operator after "attempt" at position 8`.
absl::StatusOr<ParsedFilter> ParseFilter(std::string_view filter);

// The error ParseFilter returns, for a well-formed filter that is rejected
// (filter_binder.h: unknown field, operator not accepted for a field, bad
// value).
absl::Status InvalidFilterError(std::string_view description);

}  // namespace trainyard
