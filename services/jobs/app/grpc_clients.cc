// Copyright 2026 Trainyard authors.
#include "services/jobs/app/grpc_clients.h"

#include <algorithm>
#include <chrono>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/grpc_status.h"
#include "common/status/status_macros.h"

namespace trainyard::jobs {
namespace {

void Prepare(grpc::ClientContext& ctx, const CallOptions& o, bool deadline) {
  if (!o.service_token.empty()) {
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", o.service_token));
  }
  if (deadline) {
    ctx.set_deadline(std::chrono::system_clock::now() +
                     absl::ToChronoMilliseconds(o.deadline));
  }
}

template <typename Stub, typename Req, typename Resp>
absl::Status Call(Stub* stub,
                  grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&,
                                               Resp*),
                  const CallOptions& o, const Req& req, Resp* resp) {
  grpc::ClientContext ctx;
  Prepare(ctx, o, true);
  return FromGrpcStatus((stub->*method)(&ctx, req, resp));
}

}  // namespace

GrpcSchedulerClient::GrpcSchedulerClient(std::shared_ptr<grpc::Channel> channel,
                                         CallOptions o)
    : stub_(scheduler::v1::SchedulerService::NewStub(channel)),
      options_(std::move(o)) {}

absl::Status GrpcSchedulerClient::Enqueue(
    const scheduler::v1::EnqueueRequest& r) {
  scheduler::v1::EnqueueRequest req = r;
  // Required by the API: a rough run-time estimate from the step count (the
  // scheduler recomputes it from metrics as the job runs).
  if (!req.has_estimated_duration()) {
    req.mutable_estimated_duration()->set_seconds(
        std::max<int64_t>(req.config().total_steps() * 10, 60));
  }
  scheduler::v1::EnqueueResponse resp;
  return Call(stub_.get(), &scheduler::v1::SchedulerService::Stub::Enqueue,
              options_, req, &resp);
}

absl::StatusOr<bool> GrpcSchedulerClient::RemoveFromQueue(
    const scheduler::v1::RemoveFromQueueRequest& r) {
  scheduler::v1::RemoveFromQueueResponse resp;
  RETURN_IF_ERROR(Call(stub_.get(),
                       &scheduler::v1::SchedulerService::Stub::RemoveFromQueue,
                       options_, r, &resp));
  return resp.removed();
}

absl::Status GrpcSchedulerClient::ReleaseSlot(
    const scheduler::v1::ReleaseSlotRequest& r) {
  scheduler::v1::ReleaseSlotResponse resp;
  return Call(stub_.get(), &scheduler::v1::SchedulerService::Stub::ReleaseSlot,
              options_, r, &resp);
}

GrpcCostClient::GrpcCostClient(std::shared_ptr<grpc::Channel> channel,
                               CallOptions o)
    : stub_(cost::v1::CostService::NewStub(channel)), options_(std::move(o)) {}

absl::Status GrpcCostClient::RegisterJob(
    const cost::v1::RegisterJobRequest& r) {
  cost::v1::RegisterJobResponse resp;
  return Call(stub_.get(), &cost::v1::CostService::Stub::RegisterJob, options_,
              r, &resp);
}

absl::StatusOr<cost::v1::CostEstimate> GrpcCostClient::EstimateCost(
    const cost::v1::EstimateCostRequest& r) {
  cost::v1::EstimateCostResponse resp;
  RETURN_IF_ERROR(Call(stub_.get(), &cost::v1::CostService::Stub::EstimateCost,
                       options_, r, &resp));
  return resp.estimate();
}

absl::StatusOr<std::vector<common::v1::CostSummary>>
GrpcCostClient::BatchGetJobCosts(const std::vector<std::string>& job_ids) {
  cost::v1::BatchGetJobCostsRequest req;
  for (const std::string& id : job_ids) req.add_job_ids(id);
  cost::v1::BatchGetJobCostsResponse resp;
  RETURN_IF_ERROR(Call(stub_.get(),
                       &cost::v1::CostService::Stub::BatchGetJobCosts, options_,
                       req, &resp));
  return std::vector<common::v1::CostSummary>(resp.costs().begin(),
                                              resp.costs().end());
}

absl::StatusOr<std::string> GrpcCostClient::OpenMeter(
    const cost::v1::OpenMeterRequest& r) {
  cost::v1::OpenMeterResponse resp;
  RETURN_IF_ERROR(Call(stub_.get(), &cost::v1::CostService::Stub::OpenMeter,
                       options_, r, &resp));
  return resp.meter().meter_id();
}

absl::Status GrpcCostClient::CloseMeter(const cost::v1::CloseMeterRequest& r) {
  cost::v1::CloseMeterResponse resp;
  return Call(stub_.get(), &cost::v1::CostService::Stub::CloseMeter, options_,
              r, &resp);
}

absl::StatusOr<cost::v1::FinalizeJobCostResponse>
GrpcCostClient::FinalizeJobCost(const cost::v1::FinalizeJobCostRequest& r) {
  cost::v1::FinalizeJobCostResponse resp;
  RETURN_IF_ERROR(Call(stub_.get(),
                       &cost::v1::CostService::Stub::FinalizeJobCost, options_,
                       r, &resp));
  return resp;
}

absl::Status GrpcCostClient::SetJobBudget(
    const cost::v1::SetJobBudgetRequest& r) {
  cost::v1::SetJobBudgetResponse resp;
  return Call(stub_.get(), &cost::v1::CostService::Stub::SetJobBudget, options_,
              r, &resp);
}

absl::Status GrpcCostClient::DeleteJobData(
    const cost::v1::DeleteJobDataRequest& r) {
  cost::v1::DeleteJobDataResponse resp;
  return Call(stub_.get(), &cost::v1::CostService::Stub::DeleteJobData,
              options_, r, &resp);
}

GrpcMetricsClient::GrpcMetricsClient(const shard::ShardChannels& metrics,
                                     CallOptions o)
    : stubs_(metrics), options_(std::move(o)) {}

absl::Status GrpcMetricsClient::IngestEvent(const metrics::v1::IngestEvent& e) {
  metrics::v1::IngestEventsRequest req;
  *req.add_events() = e;
  metrics::v1::IngestEventsResponse resp;
  RETURN_IF_ERROR(Call(&stubs_.For(e.job_id()),
                       &metrics::v1::MetricsService::Stub::IngestEvents,
                       options_, req, &resp));
  if (resp.results_size() == 1 &&
      resp.results(0).outcome() == metrics::v1::INGEST_OUTCOME_REJECTED) {
    // A lifecycle event metrics rejects is a job-control bug: it stays in
    // the outbox (visible in the outbox gauges and logs) rather than vanish.
    return InvalidFieldError(resp.results(0).field(), resp.results(0).reason());
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> GrpcMetricsClient::LatestJobSeq(
    const std::string& job_id) {
  metrics::v1::GetProgressRequest req;
  req.set_job_id(job_id);
  metrics::v1::GetProgressResponse resp;
  absl::Status s =
      Call(&stubs_.For(job_id), &metrics::v1::MetricsService::Stub::GetProgress,
           options_, req, &resp);
  if (absl::IsNotFound(s)) return 0;
  RETURN_IF_ERROR(s);
  return resp.progress().job_seq();
}

absl::Status GrpcMetricsClient::DeleteJobData(const std::string& job_id) {
  metrics::v1::DeleteJobDataRequest req;
  req.set_job_id(job_id);
  metrics::v1::DeleteJobDataResponse resp;
  return Call(&stubs_.For(job_id),
              &metrics::v1::MetricsService::Stub::DeleteJobData, options_, req,
              &resp);
}

absl::StatusOr<std::vector<common::v1::Progress>>
GrpcMetricsClient::BatchGetProgress(const std::vector<std::string>& job_ids) {
  std::vector<common::v1::Progress> out(job_ids.size());
  absl::Status first;
  bool any = false;
  const std::vector<std::vector<size_t>> by_shard = stubs_.Split(job_ids);
  for (int shard = 0; shard < stubs_.size(); ++shard) {
    const std::vector<size_t>& positions = by_shard[shard];
    if (positions.empty()) continue;
    metrics::v1::BatchGetProgressRequest req;
    for (size_t i : positions) req.add_job_ids(job_ids[i]);
    metrics::v1::BatchGetProgressResponse resp;
    absl::Status s = Call(&stubs_.at(shard),
                          &metrics::v1::MetricsService::Stub::BatchGetProgress,
                          options_, req, &resp);
    if (!s.ok()) {
      if (first.ok()) first = s;
      continue;
    }
    any = true;
    // One answer per distinct id, in request order.
    absl::flat_hash_map<std::string_view, const common::v1::Progress*> by_id;
    for (const common::v1::Progress& p : resp.progress()) {
      by_id[p.job_id()] = &p;
    }
    for (size_t i : positions) {
      auto it = by_id.find(job_ids[i]);
      if (it != by_id.end()) out[i] = *it->second;
    }
  }
  // A shard that failed leaves its jobs' entries empty; all failed: its
  // error (one shard: exactly the single service's answer).
  if (!any && !first.ok()) return first;
  return out;
}

StreamFollowers::StreamFollowers(Engine& engine, Channels channels,
                                 CallOptions options, Logger& logger)
    : engine_(engine),
      channels_(std::move(channels)),
      options_(std::move(options)),
      logger_(logger) {}

StreamFollowers::~StreamFollowers() { Stop(); }

void StreamFollowers::Start() {
  for (int shard = 0; shard < channels_.metrics.size(); ++shard) {
    threads_.emplace_back([this, shard] { FollowEvents(shard); });
  }
  threads_.emplace_back([this] { FollowAssignments(); });
  threads_.emplace_back([this] { FollowAlerts(); });
}

void StreamFollowers::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  {
    absl::MutexLock l(&mu_);
    for (grpc::ClientContext* ctx : live_) ctx->TryCancel();
  }
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool StreamFollowers::Pause(absl::Duration* backoff) {
  if (stop_.WaitForNotificationWithTimeout(*backoff)) return false;
  *backoff = std::min(*backoff * 2, absl::Seconds(10));
  return true;
}

void StreamFollowers::Untrack(grpc::ClientContext* ctx) {
  absl::MutexLock l(&mu_);
  live_.erase(std::remove(live_.begin(), live_.end(), ctx), live_.end());
}

void StreamFollowers::Track(grpc::ClientContext* ctx) {
  absl::MutexLock l(&mu_);
  if (ctx == nullptr) return;
  live_.push_back(ctx);
  if (stop_.HasBeenNotified()) ctx->TryCancel();
}

void StreamFollowers::FollowEvents(int shard) {
  auto stub = metrics::v1::MetricsService::NewStub(channels_.metrics.at(shard));
  // Shard 0 keeps the name of the single service's cursor.
  const std::string name =
      shard == 0 ? "events" : absl::StrCat("events.", shard);
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stop_.HasBeenNotified()) {
    absl::StatusOr<std::string> cursor = engine_.store().Cursor(name);
    metrics::v1::WatchEventsRequest req;
    const bool resume = cursor.ok() && !cursor->empty();
    if (resume) {
      req.set_cursor(*cursor);
    } else {
      req.set_start_from_oldest(true);
    }
    // One line per (re)connection: where each shard's stream resumes.
    logger_.Info("events.stream_opened",
                 {{"stream", name}, {"from", resume ? "cursor" : "oldest"}});
    // Job-control acts on these; METRICS events are many and unused here.
    for (auto t :
         {common::v1::EVENT_TYPE_STATUS, common::v1::EVENT_TYPE_CHECKPOINT,
          common::v1::EVENT_TYPE_ERROR, common::v1::EVENT_TYPE_WARNING,
          common::v1::EVENT_TYPE_INFO}) {
      req.add_types(t);
    }
    // The most the stream sends at once: a backlog (a restart, 1,000 busy
    // jobs) drains in few messages.
    req.set_max_batch_size(1000);
    grpc::ClientContext ctx;
    Prepare(ctx, options_, false);
    Track(&ctx);
    absl::Cleanup untrack = [this, &ctx] { Untrack(&ctx); };
    auto reader = stub->WatchEvents(&ctx, req);
    metrics::v1::WatchEventsResponse resp;
    while (reader->Read(&resp)) {
      backoff = absl::Milliseconds(100);
      std::optional<std::pair<std::string, std::string>> c =
          std::pair<std::string, std::string>{name, resp.cursor()};
      bool ok = true;
      for (int i = 0; i < resp.events_size(); ++i) {
        const auto& e = resp.events(i);
        // The cursor goes with the batch's last event; replays after a crash
        // are dropped by job_seq in the lifecycle.
        auto cursor_here = i + 1 == resp.events_size() ? c : std::nullopt;
        absl::Status s =
            engine_.Apply(e.job_id(), EventInput{e}, {}, cursor_here).status();
        if (absl::IsNotFound(s)) {
          if (cursor_here)
            s = engine_.Complete({}, cursor_here);
          else
            s = absl::OkStatus();  // another system's job
        }
        if (!s.ok()) {
          logger_.Warning("events.apply_failed",
                          {{"stream", name}, {"error", s.ToString()}});
          ok = false;
          break;
        }
      }
      if (!ok) break;
      if (resp.events_size() == 0 && !resp.cursor().empty()) {
        (void)engine_.Complete({}, c);
      }
    }
    grpc::Status st = reader->Finish();
    if (!st.ok() && !stop_.HasBeenNotified()) {
      logger_.Debug("events.stream_ended",
                    {{"stream", name}, {"error", st.error_message()}});
    }
    if (!Pause(&backoff)) return;
  }
}

void StreamFollowers::FollowAssignments() {
  auto stub = scheduler::v1::SchedulerService::NewStub(channels_.scheduler);
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stop_.HasBeenNotified()) {
    scheduler::v1::WatchAssignmentsRequest req;
    absl::StatusOr<std::string> cursor = engine_.store().Cursor("assignments");
    if (cursor.ok()) req.set_cursor(*cursor);
    grpc::ClientContext ctx;
    Prepare(ctx, options_, false);
    Track(&ctx);
    absl::Cleanup untrack = [this, &ctx] { Untrack(&ctx); };
    auto reader = stub->WatchAssignments(&ctx, req);
    scheduler::v1::WatchAssignmentsResponse resp;
    while (reader->Read(&resp)) {
      backoff = absl::Milliseconds(100);
      std::pair<std::string, std::string> c{"assignments", resp.cursor()};
      for (int i = 0; i < resp.assignments_size(); ++i) {
        const auto& a = resp.assignments(i);
        auto here = i + 1 == resp.assignments_size()
                        ? std::optional<std::pair<std::string, std::string>>(c)
                        : std::nullopt;
        absl::Status s =
            engine_.Apply(a.job_id(), AssignmentInput{a}, {}, here).status();
        if (absl::IsNotFound(s) && here) (void)engine_.Complete({}, here);
      }
      if (resp.assignments_size() == 0 && !resp.cursor().empty()) {
        (void)engine_.Complete({}, c);
      }
    }
    (void)reader->Finish();
    if (!Pause(&backoff)) return;
  }
}

void StreamFollowers::FollowAlerts() {
  auto stub = cost::v1::CostService::NewStub(channels_.cost);
  absl::Duration backoff = absl::Milliseconds(100);
  while (!stop_.HasBeenNotified()) {
    cost::v1::WatchBudgetAlertsRequest req;
    absl::StatusOr<std::string> cursor = engine_.store().Cursor("alerts");
    if (cursor.ok()) req.set_cursor(*cursor);
    grpc::ClientContext ctx;
    Prepare(ctx, options_, false);
    Track(&ctx);
    absl::Cleanup untrack = [this, &ctx] { Untrack(&ctx); };
    auto reader = stub->WatchBudgetAlerts(&ctx, req);
    cost::v1::WatchBudgetAlertsResponse resp;
    while (reader->Read(&resp)) {
      backoff = absl::Milliseconds(100);
      std::pair<std::string, std::string> c{"alerts", resp.cursor()};
      for (int i = 0; i < resp.alerts_size(); ++i) {
        const auto& a = resp.alerts(i);
        auto here = i + 1 == resp.alerts_size()
                        ? std::optional<std::pair<std::string, std::string>>(c)
                        : std::nullopt;
        absl::Status s =
            engine_.Apply(a.job_id(), BudgetAlertInput{a}, {}, here).status();
        if (absl::IsNotFound(s) && here) (void)engine_.Complete({}, here);
      }
      if (resp.alerts_size() == 0 && !resp.cursor().empty()) {
        (void)engine_.Complete({}, c);
      }
    }
    (void)reader->Finish();
    if (!Pause(&backoff)) return;
  }
}

}  // namespace trainyard::jobs
