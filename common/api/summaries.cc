// Copyright 2026 Trainyard authors.
#include "common/api/summaries.h"

namespace trainyard {

common::v1::CostSummary SummaryOf(const common::v1::CostTracker& t) {
  common::v1::CostSummary s;
  s.set_job_id(t.job_id());
  *s.mutable_spend() = t.spend();
  *s.mutable_estimate() = t.estimate();
  *s.mutable_projected_final() = t.projected_final();
  s.set_level(t.level());
  s.set_over_estimate(t.over_estimate());
  s.set_final(t.final());
  *s.mutable_as_of() = t.as_of();
  return s;
}

}  // namespace trainyard
