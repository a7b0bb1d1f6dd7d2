// Copyright 2026 Trainyard authors.
#include "services/scheduler/grpc/filter.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace trainyard::scheduler {
namespace {

bool Accepts(const FieldRule& rule, FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return true;
    case FilterOp::kNe:
      return rule.not_equal;
    case FilterOp::kLt:
    case FilterOp::kLe:
    case FilterOp::kGt:
    case FilterOp::kGe:
      return rule.ordered;
    case FilterOp::kHas:
      return false;
  }
  return false;
}

}  // namespace

absl::Status FilterValueError(std::string_view field, std::string_view value) {
  return InvalidFilterError(absl::StrCat("unknown value \"", std::string(value),
                                         "\" for ", std::string(field)));
}

absl::StatusOr<std::vector<FilterClause>> ParseListFilter(
    std::string_view filter, const std::map<std::string, FieldRule>& fields) {
  absl::StatusOr<ParsedFilter> parsed = ParseFilter(filter);
  if (!parsed.ok()) return parsed.status();
  std::vector<FilterClause> clauses;
  for (const FilterTerm& term : parsed->all_of) {
    const FilterRestriction& first = term.any_of.front();
    auto rule = fields.find(first.field);
    if (rule == fields.end()) {
      std::vector<std::string> names;
      for (const auto& [name, _] : fields) names.push_back(name);
      return InvalidFilterError(absl::StrCat(
          "unknown field \"", first.field, "\" at position ", first.position,
          " (accepted: ", absl::StrJoin(names, ", "), ")"));
    }
    FilterClause clause{first.field, first.op, {}};
    for (const FilterRestriction& r : term.any_of) {
      if (!Accepts(rule->second, r.op) ||
          (term.any_of.size() > 1 && r.op != FilterOp::kEq)) {
        return InvalidFilterError(
            absl::StrCat("operator ", std::string(FilterOpText(r.op)),
                         " is not accepted on ", r.field,
                         term.any_of.size() > 1 ? " in an OR group" : "",
                         " at position ", r.position));
      }
      clause.values.push_back(r.value.text);
    }
    clauses.push_back(std::move(clause));
  }
  return clauses;
}

}  // namespace trainyard::scheduler
