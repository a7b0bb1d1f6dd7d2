// Copyright 2026 Trainyard authors.
#include "common/search/filter_binder.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"

namespace trainyard {
namespace {

std::string At(size_t position) {
  return absl::StrCat(" at position ", position);
}

std::string JoinOps(const std::vector<FilterOp>& ops) {
  return absl::StrJoin(ops, ", ", [](std::string* out, FilterOp op) {
    absl::StrAppend(out, ToAbsl(FilterOpText(op)));
  });
}

std::string Bound(double value) { return absl::StrFormat("%.15g", value); }

// " from 0 to 10", " of at least 0", " of at most 10" or "".
std::string Range(const FilterField& f) {
  const bool low = std::isfinite(f.min), high = std::isfinite(f.max);
  if (low && high)
    return absl::StrCat(" from ", Bound(f.min), " to ", Bound(f.max));
  if (low) return absl::StrCat(" of at least ", Bound(f.min));
  if (high) return absl::StrCat(" of at most ", Bound(f.max));
  return "";
}

// The prefix of `type`'s value names ("JOB_STATE_" of JOB_STATE_UNSPECIFIED).
std::string_view EnumPrefix(const google::protobuf::EnumDescriptor& type) {
  constexpr std::string_view kZeroSuffix = "UNSPECIFIED";
  const google::protobuf::EnumValueDescriptor* zero = type.FindValueByNumber(0);
  if (zero == nullptr) return "";
  const std::string_view name = zero->name();
  if (!name.ends_with(kZeroSuffix)) return "";
  return name.substr(0, name.size() - kZeroSuffix.size());
}

// What a value of `f` looks like, for errors.
std::string Expected(const FilterField& f) {
  std::string expected;
  switch (f.kind) {
    case FilterValueKind::kString:
      expected = "a value";
      break;
    case FilterValueKind::kEnum: {
      const std::string_view prefix = EnumPrefix(*f.enum_type);
      std::vector<std::string> names;
      for (int i = 0; i < f.enum_type->value_count(); ++i) {
        const google::protobuf::EnumValueDescriptor* v = f.enum_type->value(i);
        if (v->number() == 0 && !f.enum_unspecified) continue;
        std::string_view name = v->name();
        if (name.starts_with(prefix)) name.remove_prefix(prefix.size());
        names.emplace_back(name);
      }
      expected = absl::StrCat("one of ", absl::StrJoin(names, ", "));
      break;
    }
    case FilterValueKind::kBool:
      expected = "true or false";
      break;
    case FilterValueKind::kInteger:
      expected = absl::StrCat("an integer", Range(f));
      break;
    case FilterValueKind::kUnsigned:
      expected = "a non-negative integer";
      break;
    case FilterValueKind::kNumber:
      expected = absl::StrCat("a number", Range(f));
      break;
    case FilterValueKind::kTime:
      return "an RFC 3339 time in double quotes, e.g. \"2026-11-29T03:05:00Z\"";
  }
  if (f.bare) absl::StrAppend(&expected, ", unquoted");
  return expected;
}

// The enum value `text` names: exactly or in any case, with or without the
// prefix; the zero value only when the field allows it.
std::optional<int> EnumValue(const FilterField& f, const std::string& text) {
  const std::string name =
      f.enum_case == FilterEnumCase::kAny ? absl::AsciiStrToUpper(text) : text;
  for (const std::string& candidate :
       {name, absl::StrCat(ToAbsl(EnumPrefix(*f.enum_type)), name)}) {
    const google::protobuf::EnumValueDescriptor* v =
        f.enum_type->FindValueByName(candidate);
    if (v != nullptr && (v->number() != 0 || f.enum_unspecified)) {
      return v->number();
    }
  }
  return std::nullopt;
}

// Reads `b.value` by the field's kind into `b`; false when it is not one.
bool ReadValue(const FilterField& f, BoundRestriction& b) {
  const std::string& text = b.value.text;
  if (f.bare && b.value.quoted) return false;
  switch (f.kind) {
    case FilterValueKind::kString:
      return true;
    case FilterValueKind::kEnum: {
      const std::optional<int> v = EnumValue(f, text);
      if (v) b.number = *v;
      return v.has_value();
    }
    case FilterValueKind::kBool:
      b.number = text == "true" ? 1 : 0;
      return text == "true" || text == "false";
    case FilterValueKind::kInteger:
      return absl::SimpleAtoi(text, &b.number) &&
             static_cast<double>(b.number) >= f.min &&
             static_cast<double>(b.number) <= f.max;
    case FilterValueKind::kUnsigned:
      return !text.starts_with("-") &&
             absl::SimpleAtoi(text, &b.unsigned_number);
    case FilterValueKind::kNumber:
      return absl::SimpleAtod(text, &b.real) && std::isfinite(b.real) &&
             b.real >= f.min && b.real <= f.max;
    case FilterValueKind::kTime: {
      std::string err;
      return b.value.quoted &&
             absl::ParseTime(absl::RFC3339_full, text, &b.time, &err);
    }
  }
  return false;
}

absl::StatusOr<BoundRestriction> Bind(const FilterField& f,
                                      const FilterRestriction& r,
                                      bool in_or_group) {
  if (std::find(f.ops.begin(), f.ops.end(), r.op) == f.ops.end()) {
    return InvalidFilterError(absl::StrCat(
        "operator \"", ToAbsl(FilterOpText(r.op)), "\" is not accepted for ",
        ToAbsl(f.name), At(r.position), " (accepted: ", JoinOps(f.ops), ")"));
  }
  if (in_or_group && f.or_groups == FilterOrGroups::kEqualOnly &&
      r.op != FilterOp::kEq) {
    return InvalidFilterError(absl::StrCat(
        "operator \"", ToAbsl(FilterOpText(r.op)), "\" is not accepted for ",
        ToAbsl(f.name), " in an OR group", At(r.position),
        " (accepted in an OR group: =)"));
  }
  BoundRestriction b{.id = f.id,
                     .field = f.name,
                     .op = r.op,
                     .position = r.position,
                     .value = r.value};
  if (!ReadValue(f, b)) return InvalidFilterValueError(b, Expected(f));
  return b;
}

}  // namespace

absl::StatusOr<BoundFilter> BindFilter(std::string_view filter,
                                       absl::Span<const FilterField> fields) {
  ASSIGN_OR_RETURN(ParsedFilter parsed, ParseFilter(filter));
  BoundFilter bound;
  for (const FilterTerm& term : parsed.all_of) {
    // The parser puts one field in a term.
    const FilterRestriction& first = term.any_of.front();
    const auto field = std::find_if(
        fields.begin(), fields.end(),
        [&](const FilterField& f) { return f.name == first.field; });
    if (field == fields.end()) {
      return InvalidFilterError(absl::StrCat(
          "unknown field \"", first.field, "\"", At(first.position),
          " (accepted: ",
          absl::StrJoin(fields, ", ",
                        [](std::string* out, const FilterField& f) {
                          absl::StrAppend(out, ToAbsl(f.name));
                        }),
          ")"));
    }
    const bool or_group = term.any_of.size() > 1;
    if (or_group && field->or_groups == FilterOrGroups::kNone) {
      return InvalidFilterError(absl::StrCat(
          "OR is not accepted for ", first.field, At(term.any_of[1].position),
          " (accepted: one restriction on ", first.field, " per term)"));
    }
    BoundTerm& out = bound.all_of.emplace_back();
    for (const FilterRestriction& r : term.any_of) {
      ASSIGN_OR_RETURN(BoundRestriction b, Bind(*field, r, or_group));
      out.any_of.push_back(std::move(b));
    }
  }
  return bound;
}

absl::Status InvalidFilterValueError(const BoundRestriction& r,
                                     std::string_view expected) {
  const std::string_view quote = r.value.quoted ? "\"" : "";
  return InvalidFilterError(absl::StrCat(
      "invalid value ", ToAbsl(quote), r.value.text, ToAbsl(quote), " for ",
      ToAbsl(r.field), At(r.position), " (expected ", ToAbsl(expected), ")"));
}

}  // namespace trainyard
