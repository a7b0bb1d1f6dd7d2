// Copyright 2026 Trainyard authors.
//
// job-control's Prometheus metrics (no per-job labels):
//   trainyard_job_transitions_total{from,to}        lifecycle transitions
//   trainyard_jobs{state}                           jobs by state (not deleted)
//   trainyard_provider_calls_total{operation,outcome} provider calls of effects
//   trainyard_cancel_termination_seconds            cancel to pod gone (suite
//                                                   time), confirmed ones
//   trainyard_terminations_unconfirmed_total        cancels given up after 5
//   min trainyard_outbox_entries                        effects waiting
//   trainyard_outbox_oldest_age_seconds             wall age of the oldest head
// Thread-safe.
#pragma once

#include <map>
#include <string_view>

#include "absl/status/status.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "trainyard/jobs/internal/job_record.pb.h"

namespace trainyard::jobs {

class JobsMetrics {
 public:
  // `registry` must outlive this.
  explicit JobsMetrics(prometheus::Registry& registry);

  // Counts the transition from `before` to `after` (nothing if the state
  // did not change), and a cancel's termination outcome.
  void Transition(const internal::JobRecord& before,
                  const internal::JobRecord& after);
  void ProviderCall(std::string_view operation, const absl::Status& outcome);
  // Replaces the jobs-by-state gauges and the stalled-jobs gauge.
  void SetJobsByState(const std::map<common::v1::JobState, int64_t>& counts,
                      int64_t stalled);
  void SetOutbox(int64_t entries, double oldest_age_seconds);

 private:
  prometheus::Family<prometheus::Counter>& transitions_;
  prometheus::Family<prometheus::Gauge>& jobs_;
  prometheus::Gauge& stalled_;
  prometheus::Family<prometheus::Counter>& provider_calls_;
  prometheus::Histogram& termination_seconds_;
  prometheus::Counter& unconfirmed_;
  prometheus::Gauge& outbox_entries_;
  prometheus::Gauge& outbox_age_;
};

}  // namespace trainyard::jobs
