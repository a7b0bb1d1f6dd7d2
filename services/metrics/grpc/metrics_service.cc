// Copyright 2026 Trainyard authors.
#include "services/metrics/grpc/metrics_service.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/server/stream_writer.h"
#include "common/status/errors.h"
#include "common/status/ids.h"
#include "common/status/status_macros.h"
#include "common/strings/absl_view.h"
#include "services/metrics/domain/errors.h"
#include "services/metrics/grpc/requests.h"
#include "services/metrics/live/event_watch.h"
#include "services/metrics/live/job_subscription.h"

namespace trainyard::metrics {
namespace {

using server::CallInfo;

constexpr int kMaxIngestBatch = 1000;
constexpr int kMaxBatchGetProgress = 500;

}  // namespace

MetricsServiceImpl::MetricsServiceImpl(
    server::Rpc& rpc, Ingestor& ingestor, EventStore& events,
    SeriesStore& series, EventFeed& feed, JobViews& views, LiveHub& hub,
    server::DeadlineTimer& timer, const Clock& wall_clock,
    SubscriptionLimits limits, shard::ShardIdentity shard)
    : rpc_(rpc),
      ingestor_(ingestor),
      events_(events),
      series_(series),
      feed_(feed),
      views_(views),
      hub_(hub),
      timer_(timer),
      wall_clock_(wall_clock),
      limits_(limits),
      shard_(shard) {}

grpc::ServerUnaryReactor* MetricsServiceImpl::IngestEvents(
    grpc::CallbackServerContext* ctx, const v1::IngestEventsRequest* req,
    v1::IngestEventsResponse* resp) {
  return rpc_.Unary(
      ctx, "IngestEvents", req, resp,
      [this](const CallInfo&, v1::IngestEventsRequest& r,
             v1::IngestEventsResponse& out) -> absl::Status {
        if (r.events_size() == 0 || r.events_size() > kMaxIngestBatch) {
          return InvalidFieldError("events", "1 to 1,000 events per call");
        }
        // All or nothing: no event of the batch is stored when one is
        // another shard's.
        for (const v1::IngestEvent& e : r.events()) {
          RETURN_IF_ERROR(shard_.Check(e.job_id()));
        }
        std::vector<v1::IngestEvent> events(
            std::make_move_iterator(r.mutable_events()->begin()),
            std::make_move_iterator(r.mutable_events()->end()));
        ASSIGN_OR_RETURN(std::vector<v1::IngestResult> results,
                         ingestor_.Ingest(std::move(events)));
        for (auto& result : results) *out.add_results() = std::move(result);
        return absl::OkStatus();
      },
      // Batches of up to 1,000 events: never ahead of dashboard queries.
      server::Rpc::Lane::kBulk);
}

grpc::ServerUnaryReactor* MetricsServiceImpl::GetEvent(
    grpc::CallbackServerContext* ctx, const v1::GetEventRequest* req,
    v1::GetEventResponse* resp) {
  return rpc_.Unary(ctx, "GetEvent", req, resp,
                    [this](const CallInfo&, const v1::GetEventRequest& r,
                           v1::GetEventResponse& out) -> absl::Status {
                      RETURN_IF_ERROR(shard_.Check(r.job_id()));
                      RETURN_IF_ERROR(RequireJobId(r.job_id()));
                      if (r.job_seq() == 0) {
                        return InvalidFieldError("job_seq", "must be >= 1");
                      }
                      ASSIGN_OR_RETURN(
                          *out.mutable_event(),
                          events_.GetEvent(r.job_id(), r.job_seq()));
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* MetricsServiceImpl::ListEvents(
    grpc::CallbackServerContext* ctx, const v1::ListEventsRequest* req,
    v1::ListEventsResponse* resp) {
  return rpc_.Unary(
      ctx, "ListEvents", req, resp,
      [this](const CallInfo&, const v1::ListEventsRequest& r,
             v1::ListEventsResponse& out) -> absl::Status {
        RETURN_IF_ERROR(shard_.Check(r.job_id()));
        const absl::Time now = views_.clock().Now();
        ASSIGN_OR_RETURN(EventListQuery query, ParseListEvents(r, now));
        ASSIGN_OR_RETURN(EventPage page, events_.List(query));
        out = std::move(page.response);
        if (page.next) {
          out.set_next_page_token(ListEventsPageToken(query, *page.next, now));
        }
        return absl::OkStatus();
      });
}

grpc::ServerWriteReactor<v1::ExportEventsResponse>*
MetricsServiceImpl::ExportEvents(grpc::CallbackServerContext* ctx,
                                 const v1::ExportEventsRequest* req) {
  return server::StartProducerStream<v1::ExportEventsResponse>(
      rpc_, ctx, "ExportEvents",
      [this, r = *req](const CallInfo&, const auto& sink) -> absl::Status {
        RETURN_IF_ERROR(shard_.Check(r.job_id()));
        ASSIGN_OR_RETURN(EventExportQuery query, ParseExportEvents(r));
        return events_.Export(query, views_.clock().Now(), sink);
      });
}

grpc::ServerUnaryReactor* MetricsServiceImpl::GetProgress(
    grpc::CallbackServerContext* ctx, const v1::GetProgressRequest* req,
    v1::GetProgressResponse* resp) {
  return rpc_.Unary(ctx, "GetProgress", req, resp,
                    [this](const CallInfo&, const v1::GetProgressRequest& r,
                           v1::GetProgressResponse& out) -> absl::Status {
                      RETURN_IF_ERROR(shard_.Check(r.job_id()));
                      RETURN_IF_ERROR(RequireJobId(r.job_id()));
                      ASSIGN_OR_RETURN(internal::JobState state,
                                       views_.State(r.job_id()));
                      *out.mutable_progress() = views_.Progress(state);
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* MetricsServiceImpl::BatchGetProgress(
    grpc::CallbackServerContext* ctx, const v1::BatchGetProgressRequest* req,
    v1::BatchGetProgressResponse* resp) {
  return rpc_.Unary(
      ctx, "BatchGetProgress", req, resp,
      [this](const CallInfo&, const v1::BatchGetProgressRequest& r,
             v1::BatchGetProgressResponse& out) -> absl::Status {
        if (r.job_ids_size() == 0 || r.job_ids_size() > kMaxBatchGetProgress) {
          return InvalidFieldError("job_ids", "1 to 500 job ids");
        }
        for (int i = 0; i < r.job_ids_size(); ++i) {
          RETURN_IF_ERROR(
              ValidateId(absl::StrCat("job_ids[", i, "]"), r.job_ids(i)));
          RETURN_IF_ERROR(shard_.Check(r.job_ids(i)));
        }
        absl::flat_hash_set<std::string> seen;
        for (const std::string& id : r.job_ids()) {
          if (!seen.insert(id).second) continue;
          ASSIGN_OR_RETURN(internal::JobState state, views_.State(id));
          *out.add_progress() = views_.Progress(state);
        }
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MetricsServiceImpl::GetCurrentMetrics(
    grpc::CallbackServerContext* ctx, const v1::GetCurrentMetricsRequest* req,
    v1::GetCurrentMetricsResponse* resp) {
  return rpc_.Unary(
      ctx, "GetCurrentMetrics", req, resp,
      [this](const CallInfo&, const v1::GetCurrentMetricsRequest& r,
             v1::GetCurrentMetricsResponse& out) -> absl::Status {
        RETURN_IF_ERROR(shard_.Check(r.job_id()));
        RETURN_IF_ERROR(RequireJobId(r.job_id()));
        ASSIGN_OR_RETURN(internal::JobState state, views_.State(r.job_id()));
        *out.mutable_metrics() = views_.Metrics(state);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MetricsServiceImpl::GetLossCurve(
    grpc::CallbackServerContext* ctx, const v1::GetLossCurveRequest* req,
    v1::GetLossCurveResponse* resp) {
  return rpc_.Unary(ctx, "GetLossCurve", req, resp,
                    [this](const CallInfo&, const v1::GetLossCurveRequest& r,
                           v1::GetLossCurveResponse& out) -> absl::Status {
                      RETURN_IF_ERROR(shard_.Check(r.job_id()));
                      ASSIGN_OR_RETURN(CurveQuery query, ParseGetLossCurve(r));
                      RETURN_IF_ERROR(views_.Head(query.job_id).status());
                      ASSIGN_OR_RETURN(*out.mutable_curve(),
                                       views_.Curve(query));
                      return absl::OkStatus();
                    });
}

grpc::ServerUnaryReactor* MetricsServiceImpl::ListSeries(
    grpc::CallbackServerContext* ctx, const v1::ListSeriesRequest* req,
    v1::ListSeriesResponse* resp) {
  return rpc_.Unary(
      ctx, "ListSeries", req, resp,
      [this](const CallInfo&, const v1::ListSeriesRequest& r,
             v1::ListSeriesResponse& out) -> absl::Status {
        RETURN_IF_ERROR(RequireJobId(r.job_id()));
        RETURN_IF_ERROR(shard_.Check(r.job_id()));
        if (r.page_size() < 0) {
          return InvalidFieldError("page_size", "must not be negative");
        }
        RETURN_IF_ERROR(views_.State(r.job_id()).status());
        if (!r.page_token().empty() || !r.filter().empty() ||
            (!r.order_by().empty() && r.order_by() != "name")) {
          // A job reports about ten series: one page holds them all.
          return InvalidFieldError(
              r.page_token().empty()
                  ? (r.filter().empty() ? "order_by" : "filter")
                  : "page_token",
              "not supported: every series fits in the first page, by name");
        }
        ASSIGN_OR_RETURN(std::vector<v1::SeriesInfo> series,
                         series_.ListSeries(r.job_id()));
        for (auto& s : series) *out.add_series() = std::move(s);
        out.set_total_size(out.series_size());
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MetricsServiceImpl::GetStages(
    grpc::CallbackServerContext* ctx, const v1::GetStagesRequest* req,
    v1::GetStagesResponse* resp) {
  return rpc_.Unary(
      ctx, "GetStages", req, resp,
      [this](const CallInfo&, const v1::GetStagesRequest& r,
             v1::GetStagesResponse& out) -> absl::Status {
        RETURN_IF_ERROR(shard_.Check(r.job_id()));
        RETURN_IF_ERROR(RequireJobId(r.job_id()));
        ASSIGN_OR_RETURN(internal::JobState state, views_.State(r.job_id()));
        ASSIGN_OR_RETURN(*out.mutable_stages(), views_.Stages(state));
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* MetricsServiceImpl::GetJobOverview(
    grpc::CallbackServerContext* ctx, const v1::GetJobOverviewRequest* req,
    v1::GetJobOverviewResponse* resp) {
  return rpc_.Unary(
      ctx, "GetJobOverview", req, resp,
      [this](const CallInfo&, const v1::GetJobOverviewRequest& r,
             v1::GetJobOverviewResponse& out) -> absl::Status {
        RETURN_IF_ERROR(shard_.Check(r.job_id()));
        ASSIGN_OR_RETURN(CurveQuery curve,
                         ParseCurveOptions(r.job_id(), r.curve(), "curve."));
        ASSIGN_OR_RETURN(internal::JobState state, views_.State(r.job_id()));
        if (r.recent_events() < 0) {
          return InvalidFieldError("recent_events", "must not be negative");
        }
        const int recent = std::min(r.recent_events(), 100);
        // Changes with every event and with the options; durations tick on
        // the client between events (R-DASH-07).
        std::string etag = absl::StrCat(
            "\"", state.last_job_seq(), "-",
            std::hash<std::string>()(r.curve().SerializeAsString()), "-",
            recent, "\"");
        out.set_etag(etag);
        out.set_job_seq(state.last_job_seq());
        if (r.if_none_match() == etag) {
          out.set_not_modified(true);
          return absl::OkStatus();
        }
        *out.mutable_progress() = views_.Progress(state);
        ASSIGN_OR_RETURN(*out.mutable_stages(), views_.Stages(state));
        *out.mutable_current_metrics() = views_.Metrics(state);
        ASSIGN_OR_RETURN(*out.mutable_loss_curve(), views_.Curve(curve));
        if (recent > 0) {
          ASSIGN_OR_RETURN(std::vector<v1::Event> events,
                           views_.RecentEvents(state, recent));
          for (auto e = events.rbegin(); e != events.rend(); ++e) {
            *out.add_recent_events() = std::move(*e);  // newest first
          }
        }
        return absl::OkStatus();
      });
}

grpc::ServerWriteReactor<v1::WatchEventsResponse>*
MetricsServiceImpl::WatchEvents(grpc::CallbackServerContext* ctx,
                                const v1::WatchEventsRequest* req) {
  absl::StatusOr<auth::Principal> principal = rpc_.Admit(ctx, "WatchEvents");
  return EventWatch::Start(principal.status(), *req, feed_, events_, hub_,
                           rpc_.executor(), timer_, views_.clock(), wall_clock_,
                           limits_.heartbeat);
}

grpc::ServerWriteReactor<v1::SubscribeJobResponse>*
MetricsServiceImpl::SubscribeJob(grpc::CallbackServerContext* ctx,
                                 const v1::SubscribeJobRequest* req) {
  absl::StatusOr<auth::Principal> principal = rpc_.Admit(ctx, "SubscribeJob");
  absl::Status admitted =
      principal.ok() ? shard_.Check(req->job_id()) : principal.status();
  absl::StatusOr<CurveQuery> curve =
      admitted.ok() ? ParseCurveOptions(req->job_id(), req->curve(), "curve.")
                    : absl::StatusOr<CurveQuery>(admitted);
  return JobSubscription::Start(std::move(curve), *req, views_, hub_, caches_,
                                rpc_.executor(), timer_, wall_clock_, limits_);
}

grpc::ServerUnaryReactor* MetricsServiceImpl::DeleteJobData(
    grpc::CallbackServerContext* ctx, const v1::DeleteJobDataRequest* req,
    v1::DeleteJobDataResponse* resp) {
  return rpc_.Unary(ctx, "DeleteJobData", req, resp,
                    [this](const CallInfo&, const v1::DeleteJobDataRequest& r,
                           v1::DeleteJobDataResponse& out) -> absl::Status {
                      RETURN_IF_ERROR(RequireJobId(r.job_id()));
                      RETURN_IF_ERROR(shard_.Check(r.job_id()));
                      ASSIGN_OR_RETURN(int64_t deleted,
                                       ingestor_.DeleteJob(r.job_id()));
                      caches_.Forget(r.job_id());
                      out.set_deleted_events(deleted);
                      return absl::OkStatus();
                    });
}

}  // namespace trainyard::metrics
