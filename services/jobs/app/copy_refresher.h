// Copyright 2026 Trainyard authors.
//
// Keeps each job's progress and cost copies (domain/copies.h) current: every
// round asks metrics (BatchGetProgress) and cost (BatchGetJobCosts) about the
// jobs whose copies can still change, 500 ids a call, and hands the answers
// to the engine, which writes a record only when a figure changed.
//
// Why a periodic pull and not metrics' event stream: the container sends a
// METRICS event per optimizer step; following them would put every step of
// every job (with its raw JSON body) through job-control's stream, and an
// engine write per step and job: 70 us each here (read, transition, RocksDB
// write with WAL; measured 2026-12-05, 5,000 writes on the 2-core VM), so
// 1,000 jobs at 4 steps/s (make run's 60x) would cost 0.28 of a core for
// figures nobody reads between two list pages. One round per interval costs
// two calls per 500 jobs and at most one write per changed job (1,000 jobs
// every 2 s: 500 writes/s, 3.5 % of a core), and brings what events do not
// carry: the estimated remaining time and the stall flag. STATUS events still
// move the copy's stage at once (lifecycle), and the end of a job fixes both
// copies (COMPLETED: 100 %; FinalizeJobCost's answer: the final cost).
//
// The set of jobs to refresh is kept from the store's writes (Observe), so a
// round costs O(jobs refreshed), not a scan of every job ever run.
//
// Thread-safe.
#pragma once

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "services/jobs/app/clients.h"
#include "services/jobs/app/engine.h"

namespace trainyard::jobs {

class CopyRefresher {
 public:
  // Ids per batch call (the APIs' limit).
  static constexpr size_t kBatch = 500;

  CopyRefresher(Engine& engine, MetricsClient& metrics, CostClient& cost);

  // The store observer: tracks whether `record` still needs refreshing.
  void Observe(const internal::JobRecord& record);

  // One round. The first round seeds the set from the store. A service that
  // does not answer leaves its copies as they were (the next round retries);
  // the first error is returned.
  absl::Status RefreshOnce();

  // Jobs tracked for refresh (tests, gauges).
  size_t tracked() const;

 private:
  absl::Status Seed();
  // Drops `id` unless observed after `generation`.
  void Drop(const std::string& id, uint64_t generation);

  Engine& engine_;
  MetricsClient& metrics_;
  CostClient& cost_;
  mutable absl::Mutex mu_;
  bool seeded_ ABSL_GUARDED_BY(mu_) = false;
  // Tracked job ids, each with the generation of its latest Observe: a
  // round drops an id it found settled only if no write observed it since
  // the round began (a retry may have reopened it meanwhile).
  absl::btree_map<std::string, uint64_t> ids_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace trainyard::jobs
