// Copyright 2026 Trainyard authors.
#include "services/cost/domain/ledger_query.h"

#include <algorithm>

#include "absl/time/time.h"
#include "common/time/proto_time.h"

namespace trainyard::cost {
namespace {

int64_t ValueOf(const v1::LedgerEntry& e, LedgerComparison::Field f) {
  using F = LedgerComparison::Field;
  switch (f) {
    case F::kPhase:
      return e.phase();
    case F::kAttempt:
      return e.attempt();
    case F::kGpuType:
      return e.gpu_type();
    case F::kPricing:
      return e.pricing();
    case F::kProvisional:
      return e.provisional() ? 1 : 0;
    case F::kStartTime:
      return absl::ToUnixMillis(FromProto(e.start_time()));
  }
  return 0;
}

}  // namespace

bool Matches(const v1::LedgerEntry& entry,
             const std::vector<std::vector<LedgerComparison>>& clauses) {
  for (const auto& clause : clauses) {
    bool any = false;
    for (const LedgerComparison& c : clause) {
      if (FilterCompare(c.op, ValueOf(entry, c.field), c.value)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

void SortEntries(LedgerOrder order, std::vector<v1::LedgerEntry>& entries) {
  auto start = [](const v1::LedgerEntry& e) {
    return std::make_pair(e.start_time().seconds(), e.start_time().nanos());
  };
  std::stable_sort(entries.begin(), entries.end(),
                   [&](const v1::LedgerEntry& a, const v1::LedgerEntry& b) {
                     switch (order) {
                       case LedgerOrder::kStartTimeDesc:
                         if (start(a) != start(b)) return start(a) > start(b);
                         break;
                       case LedgerOrder::kAmountDesc:
                         if (a.amount().micros() != b.amount().micros()) {
                           return a.amount().micros() > b.amount().micros();
                         }
                         break;
                       case LedgerOrder::kStartTime:
                         if (start(a) != start(b)) return start(a) < start(b);
                         break;
                     }
                     return a.entry_id() < b.entry_id();
                   });
}

}  // namespace trainyard::cost
