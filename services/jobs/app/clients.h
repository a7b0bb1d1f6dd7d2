// Copyright 2026 Trainyard authors.
//
// The services job-control calls, each behind a small interface so the engine
// and its tests do not depend on gRPC: the real implementations are in
// grpc_clients.h, fakes in fake_clients.h. Every call carries the effect's
// idempotency key where the API has one; every call has a deadline. Errors are
// the callee's gRPC status as absl::Status (UNIMPLEMENTED included: the effect
// stays in the outbox and is retried).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/notify/notifier.h"
#include "services/jobs/domain/lifecycle.h"
#include "trainyard/cost/v1/cost.pb.h"
#include "trainyard/jobs/internal/job_record.pb.h"
#include "trainyard/metrics/v1/metrics.pb.h"
#include "trainyard/scheduler/v1/scheduler.pb.h"

namespace trainyard::jobs {

class SchedulerClient {
 public:
  virtual ~SchedulerClient() = default;
  virtual absl::Status Enqueue(const scheduler::v1::EnqueueRequest& r) = 0;
  // True when the job was queued and is now removed.
  virtual absl::StatusOr<bool> RemoveFromQueue(
      const scheduler::v1::RemoveFromQueueRequest& r) = 0;
  virtual absl::Status ReleaseSlot(
      const scheduler::v1::ReleaseSlotRequest& r) = 0;
};

class CostClient {
 public:
  virtual ~CostClient() = default;
  virtual absl::Status RegisterJob(const cost::v1::RegisterJobRequest& r) = 0;
  // Returns the meter id.
  virtual absl::StatusOr<std::string> OpenMeter(
      const cost::v1::OpenMeterRequest& r) = 0;
  virtual absl::Status CloseMeter(const cost::v1::CloseMeterRequest& r) = 0;
  virtual absl::StatusOr<cost::v1::FinalizeJobCostResponse> FinalizeJobCost(
      const cost::v1::FinalizeJobCostRequest& r) = 0;
  virtual absl::Status SetJobBudget(const cost::v1::SetJobBudgetRequest& r) = 0;
  virtual absl::Status DeleteJobData(
      const cost::v1::DeleteJobDataRequest& r) = 0;
  // The estimate of a configuration from a step (ResumeJob's preview).
  virtual absl::StatusOr<cost::v1::CostEstimate> EstimateCost(
      const cost::v1::EstimateCostRequest& r) = 0;
  // Cost summaries of 1..500 jobs, in request order (the list's copies).
  virtual absl::StatusOr<std::vector<common::v1::CostSummary>> BatchGetJobCosts(
      const std::vector<std::string>& job_ids) = 0;
};

class MetricsClient {
 public:
  virtual ~MetricsClient() = default;
  // OK when the event is stored or was already (DUPLICATE); a REJECTED event
  // is kInvalidArgument.
  virtual absl::Status IngestEvent(const metrics::v1::IngestEvent& e) = 0;
  // The job_seq of the job's latest event.
  virtual absl::StatusOr<uint64_t> LatestJobSeq(const std::string& job_id) = 0;
  virtual absl::Status DeleteJobData(const std::string& job_id) = 0;
  // Progress of 1..500 jobs, in request order (the list's copies). With
  // metrics shards, the jobs of a shard that failed get an empty entry (no
  // job_id) while another shard answered; an error when none did.
  virtual absl::StatusOr<std::vector<common::v1::Progress>> BatchGetProgress(
      const std::vector<std::string>& job_ids) = 0;
};

// Delivers a notify effect of `job` (app/job_notifier.h). OK once it is
// delivered or given up on; kUnavailable while it is still being delivered
// (the effect stays in the outbox and is asked again).
class Notifier {
 public:
  virtual ~Notifier() = default;
  // How the notify effect's notification ended (delivered or given up on);
  // kUnavailable while it is still being delivered (ask again).
  virtual absl::StatusOr<notify::DeliveryOutcome> Notify(
      const v1::Job& job, const internal::Effect& effect) = 0;
};

}  // namespace trainyard::jobs
