// Copyright 2026 Trainyard authors.
//
// The gRPC implementations of clients.h, and the followers of the three
// server streams job-control reads (metrics WatchEvents, scheduler
// WatchAssignments, cost WatchBudgetAlerts). Each call carries the service
// token and a deadline (wall time). A follower resumes from the cursor stored
// with the last transition it caused, reconnects with back-off after any
// error (UNIMPLEMENTED included: a service not deployed yet blocks nothing),
// and never puts a deadline on the stream itself.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/logging/logger.h"
#include "common/shard/shard_channels.h"
#include "services/jobs/app/clients.h"
#include "services/jobs/app/engine.h"
#include "trainyard/cost/v1/cost.grpc.pb.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"
#include "trainyard/scheduler/v1/scheduler.grpc.pb.h"

namespace trainyard::jobs {

struct CallOptions {
  // "Bearer <token>" is sent when non-empty.
  std::string service_token;
  absl::Duration deadline = absl::Seconds(10);
};

class GrpcSchedulerClient final : public SchedulerClient {
 public:
  GrpcSchedulerClient(std::shared_ptr<grpc::Channel> channel, CallOptions o);
  absl::Status Enqueue(const scheduler::v1::EnqueueRequest& r) override;
  absl::StatusOr<bool> RemoveFromQueue(
      const scheduler::v1::RemoveFromQueueRequest& r) override;
  absl::Status ReleaseSlot(const scheduler::v1::ReleaseSlotRequest& r) override;

 private:
  std::unique_ptr<scheduler::v1::SchedulerService::Stub> stub_;
  const CallOptions options_;
};

class GrpcCostClient final : public CostClient {
 public:
  GrpcCostClient(std::shared_ptr<grpc::Channel> channel, CallOptions o);
  absl::Status RegisterJob(const cost::v1::RegisterJobRequest& r) override;
  absl::StatusOr<std::string> OpenMeter(
      const cost::v1::OpenMeterRequest& r) override;
  absl::Status CloseMeter(const cost::v1::CloseMeterRequest& r) override;
  absl::StatusOr<cost::v1::FinalizeJobCostResponse> FinalizeJobCost(
      const cost::v1::FinalizeJobCostRequest& r) override;
  absl::Status SetJobBudget(const cost::v1::SetJobBudgetRequest& r) override;
  absl::Status DeleteJobData(const cost::v1::DeleteJobDataRequest& r) override;
  absl::StatusOr<cost::v1::CostEstimate> EstimateCost(
      const cost::v1::EstimateCostRequest& r) override;
  absl::StatusOr<std::vector<common::v1::CostSummary>> BatchGetJobCosts(
      const std::vector<std::string>& job_ids) override;

 private:
  std::unique_ptr<cost::v1::CostService::Stub> stub_;
  const CallOptions options_;
};

// Routes each call to the job's metrics shard (common/shard); a
// BatchGetProgress is one call per shard, merged back in request order.
class GrpcMetricsClient final : public MetricsClient {
 public:
  GrpcMetricsClient(const shard::ShardChannels& metrics, CallOptions o);
  absl::Status IngestEvent(const metrics::v1::IngestEvent& e) override;
  absl::StatusOr<uint64_t> LatestJobSeq(const std::string& job_id) override;
  absl::Status DeleteJobData(const std::string& job_id) override;
  absl::StatusOr<std::vector<common::v1::Progress>> BatchGetProgress(
      const std::vector<std::string>& job_ids) override;

 private:
  shard::ShardStubs<metrics::v1::MetricsService> stubs_;
  const CallOptions options_;
};

// Follows the three streams into the engine, each on its own thread: metrics'
// WatchEvents once per shard, each shard's stream resuming from its own
// cursor ("events" for shard 0, "events.<i>" for shard i).
class StreamFollowers {
 public:
  struct Channels {
    shard::ShardChannels metrics;
    std::shared_ptr<grpc::Channel> scheduler;
    std::shared_ptr<grpc::Channel> cost;
  };
  StreamFollowers(Engine& engine, Channels channels, CallOptions options,
                  Logger& logger);
  ~StreamFollowers();
  void Start();
  void Stop();

 private:
  void FollowEvents(int shard);
  void FollowAssignments();
  void FollowAlerts();
  // Waits the reconnect back-off; false once stopping.
  bool Pause(absl::Duration* backoff);
  void Track(grpc::ClientContext* ctx);
  void Untrack(grpc::ClientContext* ctx);

  Engine& engine_;
  Channels channels_;
  const CallOptions options_;
  Logger& logger_;
  absl::Notification stop_;
  absl::Mutex mu_;
  std::vector<grpc::ClientContext*> live_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

}  // namespace trainyard::jobs
