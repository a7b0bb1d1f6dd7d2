// Copyright 2026 Trainyard authors.
//
// trainyard.jobs.v1.JobService, part 2 (issue 15): the read half and the bulk
// actions: ListJobs, ListCreators, ExportJobs (list_handlers.cc),
// BatchCancelJobs, BatchDeleteJobs (batch_handlers.cc), GetJobDashboard,
// CompareJobs, ExportLossCurveImage (dashboard_handlers.cc) and WatchJobs
// (watch_jobs.cc). JobServiceImpl (part 1) derives from this class, so one
// registered service answers every RPC.
//
// Requests are validated and turned into typed queries here; the index
// (views/job_index.h) answers lists; records come from the store.
#pragma once

#include <memory>

#include "absl/time/time.h"
#include "common/server/deadline_timer.h"
#include "common/server/rpc.h"
#include "common/time/clock.h"
#include "services/jobs/app/engine.h"
#include "services/jobs/views/dashboard.h"
#include "services/jobs/views/job_index.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"

namespace trainyard::jobs {

class JobWatches;  // watch_jobs.cc

// WatchJobs' bounds.
struct WatchLimits {
  // Heartbeat when nothing else was sent for this long (wall time).
  absl::Duration heartbeat = absl::Seconds(15);
  // A watcher that was caught up and is now more changes than this behind
  // when its next round starts is told it fell behind (the stream ends with
  // RESOURCE_EXHAUSTED, reason SUBSCRIBER_FELL_BEHIND) and resumes from its
  // last token. Below JobIndex::kMaxChanges, past which it must reload.
  uint64_t max_lag_changes = 20000;
  // Jobs per round of changes (and per page of the initial sync): what one
  // watcher holds at most besides the message in flight.
  int max_round_jobs = 1000;
};

// What the part-2 handlers use. References must outlive the service.
struct JobViewsDeps {
  server::Rpc& rpc;
  Engine& engine;
  JobIndex& index;
  DashboardSources& sources;
  server::DeadlineTimer& timer;
  const Clock& wall_clock;
  // Longest wait for metrics and cost in GetJobDashboard and CompareJobs
  // (wall time; the caller's deadline may cut it shorter).
  absl::Duration fetch_timeout = absl::Seconds(2);
  WatchLimits watch;
};

class JobViewsService : public v1::JobService::CallbackService {
 public:
  explicit JobViewsService(JobViewsDeps deps);
  ~JobViewsService() override;

  // Ends every WatchJobs stream cleanly (server drain); later ones end at
  // once.
  void CloseWatches();

  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* ctx,
                                     const v1::ListJobsRequest* req,
                                     v1::ListJobsResponse* resp) override;
  grpc::ServerUnaryReactor* ListCreators(
      grpc::CallbackServerContext* ctx, const v1::ListCreatorsRequest* req,
      v1::ListCreatorsResponse* resp) override;
  grpc::ServerWriteReactor<v1::ExportJobsResponse>* ExportJobs(
      grpc::CallbackServerContext* ctx,
      const v1::ExportJobsRequest* req) override;
  grpc::ServerUnaryReactor* BatchCancelJobs(
      grpc::CallbackServerContext* ctx, const v1::BatchCancelJobsRequest* req,
      v1::BatchCancelJobsResponse* resp) override;
  grpc::ServerUnaryReactor* BatchDeleteJobs(
      grpc::CallbackServerContext* ctx, const v1::BatchDeleteJobsRequest* req,
      v1::BatchDeleteJobsResponse* resp) override;
  grpc::ServerUnaryReactor* CompareJobs(grpc::CallbackServerContext* ctx,
                                        const v1::CompareJobsRequest* req,
                                        v1::CompareJobsResponse* resp) override;
  grpc::ServerUnaryReactor* GetJobDashboard(
      grpc::CallbackServerContext* ctx, const v1::GetJobDashboardRequest* req,
      v1::GetJobDashboardResponse* resp) override;
  grpc::ServerUnaryReactor* ExportLossCurveImage(
      grpc::CallbackServerContext* ctx,
      const v1::ExportLossCurveImageRequest* req,
      v1::ExportLossCurveImageResponse* resp) override;
  grpc::ServerWriteReactor<v1::WatchJobsResponse>* WatchJobs(
      grpc::CallbackServerContext* ctx,
      const v1::WatchJobsRequest* req) override;

 protected:
  // The job as readers see it; NOT_FOUND (JOB_NOT_FOUND) for unknown and
  // deleted jobs.
  absl::StatusOr<v1::Job> VisibleJob(const std::string& job_id,
                                     std::string_view field) const;

  JobViewsDeps deps_;
  std::unique_ptr<JobWatches> watches_;
};

}  // namespace trainyard::jobs
