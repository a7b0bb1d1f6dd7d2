// Copyright 2026 Trainyard authors.
//
// trainyard.jobs.v1.JobService, part 1 (issue 14): create, get, update,
// cancel, pause, resume, retry, delete, the audit trail and the pause
// timeline. Validates each request once, converts it to a domain command and
// hands it to the Engine. The list, export, compare, dashboard, image and
// watch RPCs are part 2's (JobViewsService, job_views_service.h).
//
// Own-job rule (jobs.proto): an engineer steers only jobs they created;
// managers, admins and services any; viewers only read (access.cc).
#pragma once

#include "common/server/rpc.h"
#include "services/jobs/app/clients.h"
#include "services/jobs/app/engine.h"
#include "services/jobs/domain/job_spec.h"
#include "services/jobs/grpc/job_views_service.h"
#include "services/jobs/grpc/job_waiters.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"

namespace trainyard::jobs {

class JobServiceImpl final : public JobViewsService {
 public:
  // References must outlive the service. `cost` answers ResumeJob's
  // estimate at the chosen GPU and pricing.
  JobServiceImpl(server::Rpc& rpc, Engine& engine, CostClient& cost,
                 SpecDefaults defaults, JobViewsDeps views);

  grpc::ServerUnaryReactor* CreateJob(grpc::CallbackServerContext* ctx,
                                      const v1::CreateJobRequest* req,
                                      v1::CreateJobResponse* resp) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* ctx,
                                   const v1::GetJobRequest* req,
                                   v1::GetJobResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateJob(grpc::CallbackServerContext* ctx,
                                      const v1::UpdateJobRequest* req,
                                      v1::UpdateJobResponse* resp) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* ctx,
                                      const v1::CancelJobRequest* req,
                                      v1::CancelJobResponse* resp) override;
  grpc::ServerUnaryReactor* PauseJob(grpc::CallbackServerContext* ctx,
                                     const v1::PauseJobRequest* req,
                                     v1::PauseJobResponse* resp) override;
  grpc::ServerUnaryReactor* ResumeJob(grpc::CallbackServerContext* ctx,
                                      const v1::ResumeJobRequest* req,
                                      v1::ResumeJobResponse* resp) override;
  grpc::ServerUnaryReactor* RetryJob(grpc::CallbackServerContext* ctx,
                                     const v1::RetryJobRequest* req,
                                     v1::RetryJobResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteJob(grpc::CallbackServerContext* ctx,
                                      const v1::DeleteJobRequest* req,
                                      v1::DeleteJobResponse* resp) override;
  grpc::ServerUnaryReactor* ListAuditEntries(
      grpc::CallbackServerContext* ctx, const v1::ListAuditEntriesRequest* req,
      v1::ListAuditEntriesResponse* resp) override;
  grpc::ServerUnaryReactor* GetPauseTimeline(
      grpc::CallbackServerContext* ctx, const v1::GetPauseTimelineRequest* req,
      v1::GetPauseTimelineResponse* resp) override;

  // Calls parked until a job changes: the module makes it a store observer
  // and stops it when the host drains.
  JobWaiters& waiters() { return waiters_; }

 private:
  absl::StatusOr<internal::JobRecord> Cancel(const server::CallInfo& call,
                                             const v1::CancelJobRequest& r);
  void FillCancel(const internal::JobRecord& record,
                  v1::CancelJobResponse& out) const;
  grpc::ServerUnaryReactor* CancelAndWait(grpc::CallbackServerContext* ctx,
                                          const v1::CancelJobRequest* req,
                                          v1::CancelJobResponse* resp);

  server::Rpc& rpc_;
  Engine& engine_;
  CostClient& cost_;
  const SpecDefaults defaults_;
  JobWaiters waiters_;
};

}  // namespace trainyard::jobs
