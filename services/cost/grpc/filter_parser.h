// Copyright 2026 Trainyard authors.
//
// The AIP-160 subset cost's filters use: comparisons `field op value` (op one
// of = != < <= > >=; value a bare word or a "quoted string") joined by AND,
// with OR binding tighter ("a = 1 OR a = 2 AND b = 3" is (a=1 OR a=2) AND
// b=3); parentheses around an OR group are allowed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace trainyard::cost {

struct RawComparison {
  std::string field;
  std::string op;
  std::string value;
};

// Clauses ANDed, each a list of comparisons ORed. INVALID_ARGUMENT naming
// `field_name` when the text does not parse.
absl::StatusOr<std::vector<std::vector<RawComparison>>> ParseFilter(
    std::string_view field_name, std::string_view text);

}  // namespace trainyard::cost
