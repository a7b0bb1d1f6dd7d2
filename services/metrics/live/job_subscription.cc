// Copyright 2026 Trainyard authors.
#include "services/metrics/live/job_subscription.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/paging/opaque_token.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/storage/keys.h"
#include "common/strings/absl_view.h"
#include "common/time/proto_time.h"
#include "services/metrics/domain/errors.h"
#include "services/metrics/series/series_points.h"

namespace trainyard::metrics {
namespace {

constexpr char kResumeTokenKind[] = "subscribe_job";

absl::Duration UpdateInterval(const v1::SubscribeJobRequest& r) {
  if (!r.has_min_update_interval()) return absl::Seconds(1);
  absl::Duration d = FromProto(r.min_update_interval());
  if (d == absl::ZeroDuration()) return absl::Seconds(1);
  return std::clamp(d, absl::Milliseconds(50), absl::Seconds(60));
}

int RecentEvents(const v1::SubscribeJobRequest& r) {
  if (!r.include_events()) return 0;
  if (r.recent_events() <= 0) return 20;
  return std::min(r.recent_events(), 100);
}

bool Matches(const v1::EventQuery& query, const v1::Event& e) {
  if (query.types().empty()) return true;
  return std::find(query.types().begin(), query.types().end(), e.type()) !=
         query.types().end();
}

}  // namespace

std::string EncodeResumeToken(std::string_view job_id, uint64_t job_seq) {
  return paging::EncodeOpaqueToken(kResumeTokenKind, job_id,
                                   storage::EncodeUint64(job_seq));
}

absl::StatusOr<uint64_t> DecodeResumeToken(std::string_view token,
                                           std::string_view job_id) {
  ASSIGN_OR_RETURN(std::string payload,
                   paging::DecodeOpaqueToken("resume_token", kResumeTokenKind,
                                             job_id, token));
  std::string_view rest(payload);
  uint64_t seq = 0;
  if (!storage::ConsumeUint64(&rest, &seq) || !rest.empty()) {
    return paging::InvalidTokenError("resume_token", "malformed token");
  }
  return seq;
}

grpc::ServerWriteReactor<v1::SubscribeJobResponse>* JobSubscription::Start(
    absl::StatusOr<CurveQuery> curve, v1::SubscribeJobRequest request,
    JobViews& views, LiveHub& hub, LiveCaches& caches,
    server::Executor& executor, server::DeadlineTimer& timer,
    const Clock& wall_clock, SubscriptionLimits limits) {
  auto stream = std::make_shared<JobSubscription>(
      std::move(curve), std::move(request), views, hub, caches, executor, timer,
      wall_clock, limits);
  stream->hub_id_ = hub.Add(stream->request_.job_id(), stream);
  return stream->Begin();
}

JobSubscription::JobSubscription(absl::StatusOr<CurveQuery> curve,
                                 v1::SubscribeJobRequest request,
                                 JobViews& views, LiveHub& hub,
                                 LiveCaches& caches, server::Executor& executor,
                                 server::DeadlineTimer& timer,
                                 const Clock& wall_clock,
                                 SubscriptionLimits limits)
    : PullStream(executor, timer, wall_clock,
                 {UpdateInterval(request), limits.heartbeat}),
      init_(curve.status()),
      request_(std::move(request)),
      views_(views),
      hub_(hub),
      caches_(caches),
      options_key_(DeltaOptionsKey(request_)),
      snapshot_key_(SnapshotOptionsKey(request_)),
      limits_(limits) {
  if (curve.ok()) curve_ = *std::move(curve);
  if (init_.ok() && !request_.resume_token().empty()) {
    absl::StatusOr<uint64_t> seq =
        DecodeResumeToken(request_.resume_token(), request_.job_id());
    if (seq.ok()) {
      sent_seq_ = *seq;
      need_snapshot_ = false;
    } else {
      init_ = seq.status();
    }
  }
}

absl::StatusOr<SharedDelta> JobSubscription::NextDelta(uint64_t latest) {
  SharedDelta combined;
  uint64_t seq = sent_seq_;
  int events = 0;
  while (seq < latest && events < limits_.max_delta_events) {
    std::shared_ptr<const SharedDelta> next =
        caches_.deltas.Find(request_.job_id(), options_key_, seq);
    if (next == nullptr) {
      // Read before the state: a purge after this makes Put a no-op.
      const uint64_t generation = caches_.deltas.Generation(request_.job_id());
      ASSIGN_OR_RETURN(internal::JobState state,
                       views_.State(request_.job_id()));
      ASSIGN_OR_RETURN(SharedDelta built, BuildDelta(state, seq));
      next = std::make_shared<const SharedDelta>(std::move(built));
      caches_.deltas.Put(request_.job_id(), options_key_, seq, next,
                         generation);
    }
    if (next->delta.job_seq() <= seq) break;  // nothing readable after seq
    events += static_cast<int>(next->delta.job_seq() - seq);
    if (seq == sent_seq_) {
      combined = *next;
    } else {
      AppendDelta(*next, &combined);
    }
    seq = next->delta.job_seq();
  }
  return combined;
}

absl::StatusOr<SharedDelta> JobSubscription::BuildDelta(
    const internal::JobState& state, uint64_t from) {
  SharedDelta out;
  v1::JobDelta* delta = &out.delta;
  const std::vector<std::string>& wanted = curve_.series;
  std::map<std::string, v1::SeriesAppend> appends;
  bool stages_changed = false, metrics_changed = false;
  uint64_t last = from;
  int read = 0;
  RETURN_IF_ERROR(views_.events().ReadRange(
      request_.job_id(), from, state.last_job_seq(), [&](const v1::Event& e) {
        last = e.job_seq();
        ++read;
        if (std::optional<int64_t> step = ReportedResumeStep(e)) {
          RecordRewind(*step, delta);  // R-X-06
          for (auto& [name, append] : appends) {
            out.points -= DropPointsPast(*step, &append);
          }
        }
        if (e.has_metrics()) {
          metrics_changed = true;
          EventPoints points = SeriesPoints(e);
          for (const PointInput& p : points.points) {
            if (std::find(wanted.begin(), wanted.end(), p.series) ==
                wanted.end()) {
              continue;
            }
            v1::SeriesAppend& append = appends[std::string(p.series)];
            append.set_series(std::string(p.series));
            common::v1::CurvePoint* point = append.add_points();
            point->set_step(p.step);
            point->set_value(p.value);
            point->set_attempt(p.attempt);
            ++out.points;
          }
        } else {
          stages_changed = true;
        }
        if (request_.include_events() && Matches(request_.event_query(), e)) {
          *delta->add_events() = e;
        }
        return read < limits_.max_delta_events;
      }));
  for (auto& [name, append] : appends) *delta->add_curve_points() = append;
  *delta->mutable_progress() = views_.Progress(state);
  if (metrics_changed)
    *delta->mutable_current_metrics() = views_.Metrics(state);
  if (stages_changed) {
    ASSIGN_OR_RETURN(*delta->mutable_stages(), views_.Stages(state));
  }
  delta->set_job_seq(last);
  return out;
}

absl::Status JobSubscription::SharedSnapshot(const internal::JobState& state,
                                             uint64_t generation,
                                             v1::SubscribeJobResponse* out) {
  v1::JobSnapshot* snapshot = out->mutable_snapshot();
  if (std::shared_ptr<const v1::JobSnapshot> shared = caches_.snapshots.Find(
          request_.job_id(), snapshot_key_, state.last_job_seq())) {
    *snapshot = *shared;
    // Elapsed, remaining and "taking longer than usual" tick with time: as
    // of now for every subscriber, whenever the rest was built.
    *snapshot->mutable_progress() = views_.Progress(state);
    ASSIGN_OR_RETURN(*snapshot->mutable_stages(), views_.Stages(state));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(*snapshot,
                   views_.Snapshot(state, curve_, RecentEvents(request_),
                                   request_.event_query()));
  caches_.snapshots.Put(request_.job_id(), snapshot_key_, state.last_job_seq(),
                        std::make_shared<const v1::JobSnapshot>(*snapshot),
                        generation);
  return absl::OkStatus();
}

JobSubscription::Step JobSubscription::Next(bool heartbeat_due) {
  if (!init_.ok()) return {std::nullopt, true, init_};
  absl::StatusOr<JobStates::Head> head = views_.Head(request_.job_id());
  if (!head.ok()) return {std::nullopt, true, head.status()};
  uint64_t latest = head->last_job_seq;
  bool final = IsTerminal(head->job_state);
  v1::SubscribeJobResponse out;

  if (caught_up_ && !need_snapshot_ && sent_seq_ < latest &&
      latest - sent_seq_ > limits_.max_lag_events) {
    out.mutable_fell_behind()->set_reason(absl::StrCat(
        latest - sent_seq_, " events behind; resubscribe with resume_token"));
    out.set_resume_token(EncodeResumeToken(request_.job_id(), sent_seq_));
    hub_.CountLagged();
    hub_.CountMessage();
    return {std::move(out), true, absl::OkStatus()};
  }
  if (!need_snapshot_ && sent_seq_ < latest) {
    absl::StatusOr<SharedDelta> delta = NextDelta(latest);
    if (!delta.ok()) return {std::nullopt, true, delta.status()};
    if (points_since_snapshot_ + delta->points > curve_.max_points) {
      need_snapshot_ = true;  // too many points to append: replace the curve
    } else if (delta->delta.job_seq() > sent_seq_) {
      sent_seq_ = delta->delta.job_seq();
      points_since_snapshot_ += delta->points;
      out.mutable_delta()->Swap(&delta->delta);
      // A delta built from a newer state than the head read above.
      latest = std::max(latest, sent_seq_);
    }
  }
  if (need_snapshot_ || (final && started_ && !out.has_delta())) {
    // Read before the state: a purge after this makes Put a no-op.
    const uint64_t generation = caches_.snapshots.Generation(request_.job_id());
    absl::StatusOr<internal::JobState> state = views_.State(request_.job_id());
    if (!state.ok()) return {std::nullopt, true, state.status()};
    latest = state->last_job_seq();
    if (need_snapshot_) {
      absl::Status built = SharedSnapshot(*state, generation, &out);
      if (!built.ok()) return {std::nullopt, true, built};
      sent_seq_ = latest;
      points_since_snapshot_ = 0;
      need_snapshot_ = false;
      started_ = true;
      final = IsTerminal(state->progress().job_state());
    } else if (sent_seq_ == latest) {
      // Caught up with a finished job: the final state, then the end
      // (R-DASH-09).
      out.mutable_end()->set_final_state(state->progress().job_state());
      *out.mutable_end()->mutable_progress() = views_.Progress(*state);
      out.set_resume_token(EncodeResumeToken(request_.job_id(), sent_seq_));
      hub_.CountMessage();
      return {std::move(out), true, absl::OkStatus()};
    }
  }
  if (!out.has_snapshot() && !out.has_delta()) {
    if (!heartbeat_due && started_) return {};
    *out.mutable_heartbeat()->mutable_server_time() =
        ToProto(views_.clock().Now());
  }
  started_ = true;
  if (sent_seq_ == latest) caught_up_ = true;
  out.set_resume_token(EncodeResumeToken(request_.job_id(), sent_seq_));
  if (final && sent_seq_ == latest) Wake();  // next round sends End
  if (sent_seq_ < latest) Wake();            // more than one Delta's worth
  hub_.CountMessage();
  return {std::move(out), false, absl::OkStatus()};
}

}  // namespace trainyard::metrics
