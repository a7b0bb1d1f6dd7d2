// Copyright 2026 Trainyard authors.
//
// -----------------------------------------------------------------------------
// File: common/search/filter_binder.h
// -----------------------------------------------------------------------------
//
// Binds a list filter (filter_parser.h) to the fields of one list. A list
// describes its fields once, in a table: for each field name, the operators
// it accepts, whether OR groups may join its restrictions (not at all, of
// `=` only, or of any operator) and how its value is read (string, enum,
// bool, integer, number, RFC 3339 time). BindFilter parses the filter, checks
// every restriction against the table and returns them typed, in the
// filter's shape (AND of OR groups), tagged with the caller's field id.
//
// For example, jobs' audit filter:
//
//   using enum FilterOp;
//   static const auto* fields = new std::vector<FilterField>{
//       {.name = "action", .id = kAction, .ops = {kEq, kNe},
//        .kind = FilterValueKind::kEnum, .bare = true,
//        .enum_type = v1::AuditAction_descriptor()},
//       {.name = "time", .id = kTime, .ops = {kLt, kLe, kGt, kGe},
//        .kind = FilterValueKind::kTime}};
//   ASSIGN_OR_RETURN(BoundFilter f, BindFilter(filter, *fields));
//
// Errors have the parser's shape (INVALID_ARGUMENT, reason INVALID_FILTER,
// one field violation on "filter"), and their description names the field,
// the operator or value, the position, and what is accepted, e.g.
//   unknown field "owner" at position 23 (accepted: action, actor, time)
//   operator "!=" is not accepted for actor at position 0 (accepted: =)
//   operator "!=" is not accepted for state in an OR group at position 21
//       (accepted in an OR group: =)
//   OR is not accepted for user_id at position 16 (accepted: one
//       restriction on user_id per term)
//   invalid value NAPPING for action at position 0 (expected one of CREATED,
//       UPDATED, ..., unquoted)
// A value is shown as written: quoted when it was quoted.
//
// Pure functions: thread-safe.

#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/search/filter_parser.h"
#include "google/protobuf/descriptor.h"

namespace trainyard {

// How a field's value is read, and where BoundRestriction keeps it.
enum class FilterValueKind {
  kString,    // the text as written, bare or quoted (value.text)
  kEnum,      // a value of enum_type (number)
  kBool,      // true or false (number: 1 or 0)
  kInteger,   // a decimal integer in [min, max] (number)
  kUnsigned,  // a decimal integer >= 0 without a sign (unsigned_number)
  kNumber,    // a finite decimal number in [min, max] (real)
  kTime,      // an RFC 3339 time in double quotes (time)
};

// Whether an OR group "(f = a OR f = b)" may join a field's restrictions.
enum class FilterOrGroups {
  kNone,       // one restriction per term
  kEqualOnly,  // OR groups of `=` only
  kAny,        // OR groups of any operator the field accepts
};

enum class FilterEnumCase {
  kAny,    // "training" is TRAINING
  kExact,  // names as the proto writes them
};

// One field of a list's filter.
struct FilterField {
  std::string_view name;
  // The caller's tag for the field (usually its own enum), handed back on
  // each bound restriction.
  int id = 0;
  // The operators the field accepts, in the order errors list them.
  std::vector<FilterOp> ops;
  FilterValueKind kind = FilterValueKind::kString;
  FilterOrGroups or_groups = FilterOrGroups::kAny;
  // The value must be a bare word ("state = TRAINING", not "\"TRAINING\"").
  // kTime values are always quoted.
  bool bare = false;
  // kEnum: the type. A value is written with or without the prefix of the
  // type's value names ("TRAINING", "JOB_STATE_TRAINING"): the zero value's
  // name without UNSPECIFIED, as buf lint (STANDARD) requires of the API's
  // enums. The zero value is a value only with enum_unspecified.
  const google::protobuf::EnumDescriptor* enum_type = nullptr;
  FilterEnumCase enum_case = FilterEnumCase::kAny;
  bool enum_unspecified = false;
  // kInteger and kNumber: inclusive bounds (infinite: none).
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
};

// A restriction checked against its field and its value read.
struct BoundRestriction {
  int id = 0;              // FilterField::id
  std::string_view field;  // FilterField::name (points into the table)
  FilterOp op = FilterOp::kEq;
  size_t position = 0;  // byte offset in the filter
  FilterValue value;    // as written
  // The value, by the field's kind (the others stay zero).
  int64_t number = 0;  // kEnum, kBool, kInteger
  uint64_t unsigned_number = 0;
  double real = 0;
  absl::Time time;
};

// Restrictions joined by OR, all on one field.
struct BoundTerm {
  std::vector<BoundRestriction> any_of;
};

// Terms joined by AND; empty for an empty filter.
struct BoundFilter {
  std::vector<BoundTerm> all_of;
};

// Parses `filter` (ParseFilter) and binds it to `fields`.
absl::StatusOr<BoundFilter> BindFilter(std::string_view filter,
                                       absl::Span<const FilterField> fields);

// The error for a bound value the caller rejects by a rule of its own (e.g.
// an empty user id), in the binder's wording: `invalid value "" for actor at
// position 0 (expected a user id)`.
absl::Status InvalidFilterValueError(const BoundRestriction& r,
                                     std::string_view expected);

}  // namespace trainyard
