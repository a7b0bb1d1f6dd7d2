// Copyright 2026 Trainyard authors.
//
// cost's Prometheus metrics (no job, user or request labels):
//   trainyard_cost_spend_micros_total{phase,gpu_type,pricing}  closed ledger
//       entries' amounts (open meters count when they close)
//   trainyard_cost_open_meters{phase}                          meters billing
//   now trainyard_cost_budget_alerts_total{kind}                   alerts sent
//   trainyard_cost_estimate_error_ratio                        actual spend /
//       estimate.low of completed jobs
// Thread-safe.
#pragma once

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "trainyard/cost/v1/cost.pb.h"

namespace trainyard::cost {

class CostMetrics {
 public:
  // `registry` must outlive this.
  explicit CostMetrics(prometheus::Registry& registry);

  void Spent(const v1::LedgerEntry& entry);
  void OpenMeters(common::v1::CostPhase phase, int64_t count);
  void AlertSent(v1::AlertKind kind);
  void EstimateError(double ratio);

 private:
  prometheus::Family<prometheus::Counter>& spend_;
  prometheus::Family<prometheus::Gauge>& open_meters_;
  prometheus::Family<prometheus::Counter>& alerts_;
  prometheus::Histogram& estimate_error_;
};

}  // namespace trainyard::cost
