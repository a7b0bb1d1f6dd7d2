// Copyright 2026 Trainyard authors.
//
// ListLedgerEntries' query, parsed once in grpc/: a conjunction of clauses,
// each a disjunction of comparisons (the API's filter grammar, common/search),
// plus the order. Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/search/filter_parser.h"
#include "trainyard/cost/v1/cost.pb.h"

namespace trainyard::cost {

struct LedgerComparison {
  enum class Field {
    kPhase,
    kAttempt,
    kGpuType,
    kPricing,
    kProvisional,
    kStartTime
  };
  Field field;
  FilterOp op;  // never kHas
  // Enum number, attempt, 0/1, or unix milliseconds.
  int64_t value = 0;
};

enum class LedgerOrder { kStartTime, kStartTimeDesc, kAmountDesc };

struct LedgerQuery {
  std::string job_id;  // "-" = every job
  std::vector<std::vector<LedgerComparison>> clauses;
  LedgerOrder order = LedgerOrder::kStartTime;
};

bool Matches(const v1::LedgerEntry& entry,
             const std::vector<std::vector<LedgerComparison>>& clauses);

// Sorts `entries` by `order`, ties by entry_id.
void SortEntries(LedgerOrder order, std::vector<v1::LedgerEntry>& entries);

}  // namespace trainyard::cost
