// Copyright 2026 Trainyard authors.
//
// trainyard.metrics.v1.MetricsService: validates, converts and delegates to
// the ingest path (ingest/), the event log (events/), the series (series/)
// and the job-state projections (domain/). SubscribeJob and WatchEvents are
// the live half (issue 5) and answer UNIMPLEMENTED for now.
#pragma once

#include <memory>

#include "common/server/rpc.h"
#include "common/storage/db.h"
#include "common/time/clock.h"
#include "services/metrics/domain/job_tracker.h"
#include "services/metrics/events/event_store.h"
#include "services/metrics/ingest/ingestor.h"
#include "services/metrics/series/series_store.h"
#include "services/metrics/storage/job_state_store.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::metrics {

class MetricsServiceImpl final : public v1::MetricsService::CallbackService {
 public:
  // References must outlive the service.
  MetricsServiceImpl(server::Rpc& rpc, storage::Db& db, Ingestor& ingestor,
                     EventStore& events, SeriesStore& series,
                     JobStateStore& states, const Clock& clock,
                     TrackerOptions options);

  grpc::ServerUnaryReactor* IngestEvents(
      grpc::CallbackServerContext* ctx, const v1::IngestEventsRequest* req,
      v1::IngestEventsResponse* resp) override;
  grpc::ServerUnaryReactor* GetEvent(grpc::CallbackServerContext* ctx,
                                     const v1::GetEventRequest* req,
                                     v1::GetEventResponse* resp) override;
  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* ctx,
                                       const v1::ListEventsRequest* req,
                                       v1::ListEventsResponse* resp) override;
  grpc::ServerWriteReactor<v1::ExportEventsResponse>* ExportEvents(
      grpc::CallbackServerContext* ctx,
      const v1::ExportEventsRequest* req) override;
  grpc::ServerUnaryReactor* GetProgress(grpc::CallbackServerContext* ctx,
                                        const v1::GetProgressRequest* req,
                                        v1::GetProgressResponse* resp) override;
  grpc::ServerUnaryReactor* BatchGetProgress(
      grpc::CallbackServerContext* ctx, const v1::BatchGetProgressRequest* req,
      v1::BatchGetProgressResponse* resp) override;
  grpc::ServerUnaryReactor* GetCurrentMetrics(
      grpc::CallbackServerContext* ctx, const v1::GetCurrentMetricsRequest* req,
      v1::GetCurrentMetricsResponse* resp) override;
  grpc::ServerUnaryReactor* GetLossCurve(
      grpc::CallbackServerContext* ctx, const v1::GetLossCurveRequest* req,
      v1::GetLossCurveResponse* resp) override;
  grpc::ServerUnaryReactor* ListSeries(grpc::CallbackServerContext* ctx,
                                       const v1::ListSeriesRequest* req,
                                       v1::ListSeriesResponse* resp) override;
  grpc::ServerUnaryReactor* GetStages(grpc::CallbackServerContext* ctx,
                                      const v1::GetStagesRequest* req,
                                      v1::GetStagesResponse* resp) override;
  grpc::ServerUnaryReactor* GetJobOverview(
      grpc::CallbackServerContext* ctx, const v1::GetJobOverviewRequest* req,
      v1::GetJobOverviewResponse* resp) override;
  grpc::ServerUnaryReactor* DeleteJobData(
      grpc::CallbackServerContext* ctx, const v1::DeleteJobDataRequest* req,
      v1::DeleteJobDataResponse* resp) override;

 private:
  // The job's state; kNotFound (JOB_NOT_FOUND) without events,
  // kInvalidArgument for an empty id.
  absl::StatusOr<internal::JobState> StateOf(std::string_view job_id);
  absl::StatusOr<common::v1::CurrentMetrics> CurrentMetricsOf(
      const internal::JobState& state) const;
  absl::StatusOr<common::v1::JobStages> StagesOf(
      const internal::JobState& state) const;

  server::Rpc& rpc_;
  storage::Db& db_;
  Ingestor& ingestor_;
  EventStore& events_;
  SeriesStore& series_;
  JobStateStore& states_;
  const Clock& clock_;
  const TrackerOptions options_;
};

}  // namespace trainyard::metrics
