// Copyright 2026 Trainyard authors.
#include "services/scheduler/grpc/filter.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"

namespace trainyard::scheduler {
namespace {

// Splits into tokens: words, quoted strings, "=", "!=".
absl::StatusOr<std::vector<std::string>> Tokenize(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '=') {
      out.push_back("=");
      ++i;
    } else if (c == '!' && i + 1 < s.size() && s[i + 1] == '=') {
      out.push_back("!=");
      i += 2;
    } else if (c == '"') {
      size_t end = s.find('"', i + 1);
      if (end == std::string_view::npos) {
        return InvalidFieldError("filter", "unterminated quoted value");
      }
      out.push_back(
          absl::StrCat("\"", std::string(s.substr(i + 1, end - i - 1))));
      i = end + 1;
    } else {
      size_t start = i;
      while (i < s.size() &&
             !absl::ascii_isspace(static_cast<unsigned char>(s[i])) &&
             s[i] != '=' && s[i] != '!' && s[i] != '"') {
        ++i;
      }
      if (i == start) {
        return InvalidFieldError(
            "filter", absl::StrCat("unexpected '", std::string(1, c), "'"));
      }
      out.push_back(std::string(s.substr(start, i - start)));
    }
  }
  return out;
}

}  // namespace

absl::Status FilterValueError(std::string_view field, std::string_view value) {
  return InvalidFieldError(
      "filter", absl::StrCat("unknown value '", std::string(value), "' for ",
                             std::string(field)));
}

absl::StatusOr<std::vector<FilterClause>> ParseFilter(
    std::string_view filter, const std::map<std::string, bool>& fields) {
  absl::StatusOr<std::vector<std::string>> tokens = Tokenize(filter);
  if (!tokens.ok()) return tokens.status();
  std::vector<FilterClause> clauses;
  size_t i = 0;
  const auto& t = *tokens;
  while (i < t.size()) {
    if (i + 3 > t.size()) {
      return InvalidFieldError("filter",
                               "expected `field = value` or `field != value`");
    }
    FilterClause clause;
    clause.field = t[i];
    auto known = fields.find(clause.field);
    if (known == fields.end()) {
      return InvalidFieldError(
          "filter", absl::StrCat("unknown field '", clause.field, "'"));
    }
    if (t[i + 1] != "=" && t[i + 1] != "!=") {
      return InvalidFieldError(
          "filter", absl::StrCat("expected = or != after ", clause.field));
    }
    clause.negate = t[i + 1] == "!=";
    if (clause.negate && !known->second) {
      return InvalidFieldError("filter",
                               absl::StrCat(clause.field, " supports = only"));
    }
    clause.value = t[i + 2];
    if (clause.value == "=" || clause.value == "!=") {
      return InvalidFieldError("filter", "missing value");
    }
    if (!clause.value.empty() && clause.value[0] == '"') {
      clause.value.erase(0, 1);
    }
    clauses.push_back(std::move(clause));
    i += 3;
    if (i < t.size()) {
      if (t[i] != "AND") {
        return InvalidFieldError("filter",
                                 "clauses are joined by AND (OR is not "
                                 "supported)");
      }
      ++i;
      if (i == t.size()) return InvalidFieldError("filter", "dangling AND");
    }
  }
  return clauses;
}

}  // namespace trainyard::scheduler
