// Copyright 2026 Trainyard authors.
//
// SubscribeJob (R-EVT-04, R-DASH-07, R-DASH-09, R-X-02): a Snapshot first (or,
// resuming with a token, a Delta with everything since), then coalesced
// Deltas computed from the durable log as it grows, Heartbeats when idle, and
// End once the job is over. Every message carries a resume token (job id and
// job_seq), valid across server restarts: resuming gives no gap and no
// duplicate. A subscriber more than `max_lag_events` behind is told it fell
// behind and resumes from its token; it never slows ingest, since messages
// are computed from storage at its own pace (server/pull_stream.h).
#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/server/pull_stream.h"
#include "services/metrics/live/delta_cache.h"
#include "services/metrics/live/live_hub.h"
#include "services/metrics/series/curve_query.h"
#include "services/metrics/views/job_views.h"
#include "trainyard/metrics/v1/metrics.pb.h"

namespace trainyard::metrics {

// A resume token: opaque base64 of job id and job_seq.
std::string EncodeResumeToken(std::string_view job_id, uint64_t job_seq);
// kInvalidArgument ("resume_token") when malformed or of another job.
absl::StatusOr<uint64_t> DecodeResumeToken(std::string_view token,
                                           std::string_view job_id);

struct SubscriptionLimits {
  // Past this many undelivered events, the subscriber is told it fell behind.
  uint64_t max_lag_events = 100000;
  // Events read for one Delta; the rest follow in the next.
  int max_delta_events = 1000;
  absl::Duration heartbeat = absl::Seconds(15);
};

class JobSubscription final
    : public server::PullStream<v1::SubscribeJobResponse>,
      public LiveStream {
 public:
  // Creates and starts the stream. `curve` is request.curve() as grpc/ parsed
  // it (ParseCurveOptions, which also checks the job id), or why the call is
  // refused (the auth verdict or a bad request): the stream then ends with
  // that status. References must outlive the stream. `caches` is shared by
  // every subscription of the service.
  static grpc::ServerWriteReactor<v1::SubscribeJobResponse>* Start(
      absl::StatusOr<CurveQuery> curve, v1::SubscribeJobRequest request,
      JobViews& views, LiveHub& hub, LiveCaches& caches,
      server::Executor& executor, server::DeadlineTimer& timer,
      const Clock& wall_clock, SubscriptionLimits limits = {});

  JobSubscription(absl::StatusOr<CurveQuery> curve,
                  v1::SubscribeJobRequest request, JobViews& views,
                  LiveHub& hub, LiveCaches& caches, server::Executor& executor,
                  server::DeadlineTimer& timer, const Clock& wall_clock,
                  SubscriptionLimits limits);

  void Wake() override { PullStream::Wake(); }
  void Close() override { PullStream::Close(); }

 private:
  Step Next(bool heartbeat_due) override;
  void OnStreamDone() override { hub_.Remove(hub_id_); }

  // The Delta of the events after sent_seq_ up to `latest`: the shared
  // deltas of `caches_` chained from sent_seq_, built (and shared) where
  // none is cached yet.
  absl::StatusOr<SharedDelta> NextDelta(uint64_t latest);
  // Sets out's snapshot as of `state`: shared with the subscribers asking
  // the same at the same job_seq, its progress and stages projected now.
  // `generation`: caches_.snapshots' for the job, read before `state`.
  absl::Status SharedSnapshot(const internal::JobState& state,
                              uint64_t generation,
                              v1::SubscribeJobResponse* out);
  // Builds it from storage: events (from, state's last job_seq].
  absl::StatusOr<SharedDelta> BuildDelta(const internal::JobState& state,
                                         uint64_t from);

  absl::Status init_;
  v1::SubscribeJobRequest request_;
  JobViews& views_;
  LiveHub& hub_;
  LiveCaches& caches_;
  CurveQuery curve_;                // request_.curve(), parsed
  const std::string options_key_;   // DeltaOptionsKey(request_)
  const std::string snapshot_key_;  // SnapshotOptionsKey(request_)
  const SubscriptionLimits limits_;
  LiveHub::Id hub_id_ = 0;

  // Touched only by Next(), which runs once at a time.
  bool started_ = false;
  bool need_snapshot_ = true;
  // Reached the log's end once: lag counts only from then on, so a stream
  // resuming far behind catches up instead of being turned away.
  bool caught_up_ = false;
  uint64_t sent_seq_ = 0;
  int64_t points_since_snapshot_ = 0;
};

}  // namespace trainyard::metrics
