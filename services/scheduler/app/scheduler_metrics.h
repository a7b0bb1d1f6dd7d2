// Copyright 2026 Trainyard authors.
//
// The scheduler's Prometheus metrics (trainyard_queue_*, base units, no job
// or user labels).
#pragma once

#include <string_view>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace trainyard::scheduler {

// What became of a promotion request (label `outcome` of
// trainyard_queue_promotions_total).
enum class PromotionOutcome {
  kRequested,
  kApproved,
  kDenied,
  kExpired,
  kObsolete
};

// Thread-safe (prometheus-cpp metrics are).
class SchedulerMetrics {
 public:
  explicit SchedulerMetrics(prometheus::Registry& registry);

  void SetState(int depth, int used_slots, int limit);
  // A slot was assigned after `wait_seconds` in the queue; its start missed
  // the estimate made at enqueue by `error_seconds` (signed).
  void Assigned(double wait_seconds, double error_seconds);
  void Promotion(PromotionOutcome outcome);
  void Notification(std::string_view trigger);

 private:
  prometheus::Gauge& depth_;
  prometheus::Gauge& used_;
  prometheus::Gauge& limit_;
  prometheus::Counter& assignments_;
  prometheus::Family<prometheus::Counter>& promotions_;
  prometheus::Family<prometheus::Counter>& notifications_;
  prometheus::Histogram& wait_;
  prometheus::Histogram& error_;
};

}  // namespace trainyard::scheduler
