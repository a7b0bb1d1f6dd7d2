// Copyright 2026 Trainyard authors.
//
// trainyard.metrics.v1.MetricsService: each handler validates and converts
// its request once (requests.h) and delegates to the ingest path (ingest/),
// the event log (events/), the series (series/) or the dashboard views
// (views/). The live streams, SubscribeJob and WatchEvents, are in live/.
// Every call about a job first checks that the job is this shard's
// (common/shard): FAILED_PRECONDITION WRONG_SHARD otherwise.
#pragma once

#include <memory>

#include "common/server/rpc.h"
#include "common/shard/shard.h"
#include "common/storage/db.h"
#include "common/time/clock.h"
#include "services/metrics/domain/job_tracker.h"
#include "services/metrics/events/event_store.h"
#include "services/metrics/ingest/ingestor.h"
#include "services/metrics/live/delta_cache.h"
#include "services/metrics/live/job_subscription.h"
#include "services/metrics/live/live_hub.h"
#include "services/metrics/series/series_store.h"
#include "services/metrics/storage/job_state_store.h"
#include "services/metrics/views/job_views.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::metrics {

class MetricsServiceImpl final : public v1::MetricsService::CallbackService {
 public:
  // References must outlive the service.
  MetricsServiceImpl(server::Rpc& rpc, Ingestor& ingestor, EventStore& events,
                     SeriesStore& series, EventFeed& feed, JobViews& views,
                     LiveHub& hub, server::DeadlineTimer& timer,
                     const Clock& wall_clock, SubscriptionLimits limits,
                     shard::ShardIdentity shard = {});

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

  grpc::ServerWriteReactor<v1::WatchEventsResponse>* WatchEvents(
      grpc::CallbackServerContext* ctx,
      const v1::WatchEventsRequest* req) override;
  grpc::ServerWriteReactor<v1::SubscribeJobResponse>* SubscribeJob(
      grpc::CallbackServerContext* ctx,
      const v1::SubscribeJobRequest* req) override;

 private:
  server::Rpc& rpc_;
  Ingestor& ingestor_;
  EventStore& events_;
  SeriesStore& series_;
  EventFeed& feed_;
  JobViews& views_;
  LiveHub& hub_;
  LiveCaches caches_;  // shared by every SubscribeJob stream
  server::DeadlineTimer& timer_;
  const Clock& wall_clock_;
  const SubscriptionLimits limits_;
  const shard::ShardIdentity shard_;
};

}  // namespace trainyard::metrics
