// Copyright 2026 Trainyard authors.
//
// WatchBudgetAlerts (R-X-05, R-X-02): the durable alert log from a cursor,
// read at the consumer's pace (server/pull_stream.h), filtered by job and
// kind, with heartbeats when idle. At-least-once: a consumer acks by
// reconnecting with the cursor of the last response it processed.
#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "common/server/pull_stream.h"
#include "services/cost/app/cost_book.h"
#include "trainyard/cost/v1/cost.pb.h"

namespace trainyard::cost {

class AlertWatch;

// The open streams, woken when alerts are written. Thread-safe.
class AlertHub {
 public:
  void Add(const std::shared_ptr<AlertWatch>& watch);
  void Remove(AlertWatch* watch);
  void WakeAll();
  void CloseAll();

 private:
  absl::Mutex mu_;
  absl::flat_hash_set<std::shared_ptr<AlertWatch>> watches_
      ABSL_GUARDED_BY(mu_);
};

std::string EncodeAlertCursor(uint64_t seq);

class AlertWatch final
    : public server::PullStream<v1::WatchBudgetAlertsResponse> {
 public:
  // `admitted` is the auth verdict. References must outlive the stream.
  static grpc::ServerWriteReactor<v1::WatchBudgetAlertsResponse>* Start(
      absl::Status admitted, v1::WatchBudgetAlertsRequest request,
      CostBook& book, AlertHub& hub, server::Executor& executor,
      server::DeadlineTimer& timer, const Clock& clock, const Clock& wall_clock,
      absl::Duration heartbeat);

  AlertWatch(absl::Status admitted, v1::WatchBudgetAlertsRequest request,
             CostBook& book, AlertHub& hub, server::Executor& executor,
             server::DeadlineTimer& timer, const Clock& clock,
             const Clock& wall_clock, absl::Duration heartbeat);

 private:
  Step Next(bool heartbeat_due) override;
  void OnStreamDone() override { hub_.Remove(this); }

  absl::Status init_;
  v1::WatchBudgetAlertsRequest request_;
  CostBook& book_;
  AlertHub& hub_;
  const Clock& clock_;
  uint64_t cursor_ = 0;  // touched only by Next()
};

}  // namespace trainyard::cost
