// Copyright 2026 Trainyard authors.
//
// WatchJobs (R-LIST-07, R-X-02, R-X-08): the jobs of a view as they change,
// read from the jobs index's change log at the watcher's own pace
// (server/pull_stream.h, the shape of metrics' SubscribeJob): nothing is
// queued per watcher but the current round of at most
// WatchLimits::max_round_jobs jobs, so a slow watcher never slows writers.
//
// A round takes every job changed since the watcher's position, each once
// (coalesced), classifies each change against the view (ADDED, MODIFIED,
// REMOVED, or nothing to say) and sends one message per job; the next round
// starts min_update_interval after this one did, so a job changes at most
// once per interval. Every message carries a resume token (log epoch and
// position); within a round it is the round's start, so a watcher resuming
// mid-round gets the round again (at least once, never a gap).
#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/server/pull_stream.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/time/proto_time.h"
#include "services/jobs/domain/errors.h"
#include "services/jobs/domain/lifecycle.h"
#include "services/jobs/grpc/job_views_service.h"
#include "services/jobs/views/job_watch.h"

namespace trainyard::jobs {
namespace {

absl::StatusOr<absl::Duration> UpdateInterval(const v1::WatchJobsRequest& r) {
  if (!r.has_min_update_interval()) return absl::Seconds(1);
  const absl::Duration d = FromProto(r.min_update_interval());
  if (d < absl::ZeroDuration()) {
    return InvalidFieldError("min_update_interval", "must not be negative");
  }
  if (d == absl::ZeroDuration()) return absl::Seconds(1);
  return std::clamp(d, absl::Milliseconds(250), absl::Seconds(60));
}

class WatchJobsStream final : public server::PullStream<v1::WatchJobsResponse> {
 public:
  // `admitted` is the auth verdict. `deps` must outlive the stream.
  WatchJobsStream(absl::Status admitted, const v1::WatchJobsRequest& request,
                  const JobViewsDeps& deps)
      : PullStream(deps.rpc.executor(), deps.timer, deps.wall_clock,
                   {absl::ZeroDuration(), deps.watch.heartbeat}),
        deps_(deps),
        init_(std::move(admitted)) {
    if (!init_.ok()) return;
    absl::StatusOr<absl::Duration> interval = UpdateInterval(request);
    absl::StatusOr<WatchView> view =
        ParseWatchView(request.filter(), request.keyword(), request.job_ids());
    if (!interval.ok() || !view.ok()) {
      init_ = interval.ok() ? view.status() : interval.status();
      return;
    }
    interval_ = *interval;
    view_ = *std::move(view);
    epoch_ = deps_.index.epoch();
    seq_ = deps_.index.LastChange();
    if (request.resume_token().empty()) {
      initial_ = request.send_initial();
      return;
    }
    absl::StatusOr<WatchPosition> at =
        DecodeWatchToken(view_, request.resume_token());
    if (!at.ok()) {
      init_ = at.status();
    } else if (at->epoch != epoch_) {
      reset_ =
          "job-control restarted since the token was issued; reload the view "
          "with ListJobs";
    } else if (at->seq > seq_) {
      reset_ = "the token is ahead of the change log; reload the view";
    } else {
      seq_ = at->seq;
    }
  }

  void set_id(uint64_t id) { id_ = id; }
  void set_watches(JobWatches* watches) { watches_ = watches; }

 private:
  struct Pending {
    std::string job_id;
    v1::ChangeType type;
    std::vector<std::string> fields;
  };

  Step Next(bool heartbeat_due) override;
  void OnStreamDone() override;

  // The next initial-sync message: EXISTING, or InitialSyncDone at the end.
  absl::Status NextInitial(v1::WatchJobsResponse* out);
  // Takes the changes since seq_ into round_ when the interval allows.
  absl::Status StartRound(v1::WatchJobsResponse* out);
  // Sets out's change to the job's current resource; false when the job is
  // gone from the store altogether.
  absl::StatusOr<bool> Fill(const std::string& job_id, v1::ChangeType type,
                            const std::vector<std::string>& fields,
                            v1::WatchJobsResponse* out);
  void WakeAt(absl::Time at);
  std::string Token(uint64_t seq) const {
    return EncodeWatchToken(view_, {epoch_, seq});
  }

  const JobViewsDeps& deps_;
  absl::Status init_;
  JobWatches* watches_ = nullptr;
  uint64_t id_ = 0;

  // Touched only by Next(), which runs once at a time.
  WatchView view_;
  absl::Duration interval_;
  uint64_t epoch_ = 0;
  uint64_t seq_ = 0;   // the last change the watcher has (or has in round_)
  std::string reset_;  // a WatchReset to send first
  bool started_ = false;
  bool caught_up_ = false;
  // Initial sync (send_initial): pages of the view in ListJobs' order.
  bool initial_ = false;
  bool initial_exhausted_ = false;
  std::optional<SortKey> initial_after_;
  std::deque<std::string> initial_ids_;
  int32_t initial_count_ = 0;
  // The round being sent, and the position it covers.
  std::deque<Pending> round_;
  uint64_t round_upto_ = 0;
  absl::Time next_round_at_ = absl::InfinitePast();
  absl::Time wake_at_ = absl::InfinitePast();
};

}  // namespace

// The open streams: woken by every change of the index, closed at drain.
class JobWatches {
 public:
  explicit JobWatches(JobIndex& index) : index_(index) {
    listener_ = index_.AddListener([this] { WakeAll(); });
  }
  ~JobWatches() { index_.RemoveListener(listener_); }

  uint64_t Add(std::weak_ptr<server::PullStream<v1::WatchJobsResponse>> s) {
    bool closed;
    uint64_t id;
    {
      absl::MutexLock lock(&mu_);
      id = next_id_++;
      closed = closed_;
      streams_.emplace(id, s);
    }
    if (closed) {
      if (auto stream = s.lock()) stream->Close();
    }
    return id;
  }

  void Remove(uint64_t id) {
    absl::MutexLock lock(&mu_);
    streams_.erase(id);
  }

  void CloseAll() {
    for (const auto& s : Live(/*close=*/true)) s->Close();
  }

 private:
  void WakeAll() {
    for (const auto& s : Live(/*close=*/false)) s->Wake();
  }

  std::vector<std::shared_ptr<server::PullStream<v1::WatchJobsResponse>>> Live(
      bool close) {
    std::vector<std::shared_ptr<server::PullStream<v1::WatchJobsResponse>>> out;
    absl::MutexLock lock(&mu_);
    if (close) closed_ = true;
    for (const auto& [id, w] : streams_) {
      if (auto s = w.lock()) out.push_back(std::move(s));
    }
    return out;
  }

  JobIndex& index_;
  uint64_t listener_ = 0;
  absl::Mutex mu_;
  std::map<uint64_t, std::weak_ptr<server::PullStream<v1::WatchJobsResponse>>>
      streams_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

namespace {

void WatchJobsStream::OnStreamDone() {
  if (watches_ != nullptr) watches_->Remove(id_);
}

void WatchJobsStream::WakeAt(absl::Time at) {
  if (wake_at_ == at) return;  // already scheduled
  wake_at_ = at;
  std::weak_ptr<PullStream> self = weak_from_this();
  deps_.timer.Schedule(at, [self] {
    if (auto s = self.lock()) s->Wake();
  });
}

absl::StatusOr<bool> WatchJobsStream::Fill(
    const std::string& job_id, v1::ChangeType type,
    const std::vector<std::string>& fields, v1::WatchJobsResponse* out) {
  absl::StatusOr<internal::JobRecord> record = deps_.engine.store().Get(job_id);
  if (absl::IsNotFound(record.status())) return false;
  if (!record.ok()) return record.status();
  v1::JobChange* change = out->mutable_change();
  change->set_type(type);
  *change->mutable_job() = ProjectJob(*record, deps_.engine.clock().Now());
  for (const std::string& f : fields) {
    change->mutable_changed_fields()->add_paths(f);
  }
  return true;
}

absl::Status WatchJobsStream::NextInitial(v1::WatchJobsResponse* out) {
  while (true) {
    if (initial_ids_.empty() && !initial_exhausted_) {
      if (!view_.job_ids.empty()) {
        std::vector<std::string> ids(view_.job_ids.begin(),
                                     view_.job_ids.end());
        std::sort(ids.begin(), ids.end());
        for (std::string& id : ids) {
          std::optional<JobRow> row = deps_.index.Row(id);
          if (row && InView(view_, &*row)) initial_ids_.push_back(id);
        }
        initial_exhausted_ = true;
      } else {
        JobIndex::Page page = deps_.index.Query(
            view_.query, initial_after_, deps_.watch.max_round_jobs,
            absl::ToUnixMicros(deps_.engine.clock().Now()));
        initial_ids_.assign(page.job_ids.begin(), page.job_ids.end());
        initial_after_ = page.next;
        initial_exhausted_ = !page.next.has_value();
      }
    }
    if (initial_ids_.empty()) break;
    const std::string id = std::move(initial_ids_.front());
    initial_ids_.pop_front();
    ASSIGN_OR_RETURN(bool found, Fill(id, v1::CHANGE_TYPE_EXISTING, {}, out));
    if (found) {
      ++initial_count_;
      return absl::OkStatus();
    }
  }
  out->mutable_initial_sync_done()->set_job_count(initial_count_);
  initial_ = false;
  return absl::OkStatus();
}

absl::Status WatchJobsStream::StartRound(v1::WatchJobsResponse* out) {
  const uint64_t head = deps_.index.LastChange();
  if (head == seq_) {
    caught_up_ = true;
    return absl::OkStatus();
  }
  const absl::Time now = deps_.wall_clock.Now();
  if (now < next_round_at_) {
    WakeAt(next_round_at_);
    return absl::OkStatus();
  }
  if (caught_up_ && head - seq_ > deps_.watch.max_lag_changes) {
    return WithReason(
        absl::ResourceExhaustedError(absl::StrCat(
            "this watcher is ", head - seq_,
            " changes behind; resubscribe with the last resume_token")),
        kReasonSubscriberFellBehind);
  }
  uint64_t upto = 0;
  std::optional<std::vector<JobIndex::Change>> changes =
      deps_.index.ChangesSince(seq_, deps_.watch.max_round_jobs, &upto);
  if (!changes.has_value()) {
    out->mutable_reset()->set_reason(
        "changes since the resume token are no longer kept; reload the view "
        "with ListJobs");
    seq_ = head;
    return absl::OkStatus();
  }
  std::vector<std::string> fields;
  for (const JobIndex::Change& c : *changes) {
    const v1::ChangeType type =
        ClassifyChange(view_, c.before.get(), c.after.get(), &fields);
    if (type != v1::CHANGE_TYPE_UNSPECIFIED) {
      round_.push_back({c.job_id, type, fields});
    }
  }
  if (round_.empty()) {
    seq_ = upto;  // nothing in the view changed: no interval to keep
  } else {
    round_upto_ = upto;
    next_round_at_ = now + interval_;
  }
  Wake();  // send the round, or look at what came after `upto`
  return absl::OkStatus();
}

WatchJobsStream::Step WatchJobsStream::Next(bool heartbeat_due) {
  if (!init_.ok()) return {std::nullopt, true, init_};
  v1::WatchJobsResponse out;
  if (!reset_.empty()) {
    out.mutable_reset()->set_reason(std::exchange(reset_, ""));
    seq_ = deps_.index.LastChange();
  } else if (initial_) {
    if (absl::Status s = NextInitial(&out); !s.ok()) {
      return {std::nullopt, true, s};
    }
  } else {
    if (round_.empty()) {
      if (absl::Status s = StartRound(&out); !s.ok()) {
        return {std::nullopt, true, s};
      }
    }
    while (!out.has_reset() && !out.has_change() && !round_.empty()) {
      Pending p = std::move(round_.front());
      round_.pop_front();
      absl::StatusOr<bool> found = Fill(p.job_id, p.type, p.fields, &out);
      if (!found.ok()) return {std::nullopt, true, found.status()};
      if (round_.empty()) seq_ = round_upto_;
    }
  }
  const bool more = initial_ || !round_.empty();
  if (!out.has_reset() && !out.has_change() && !out.has_initial_sync_done()) {
    if (started_ && !heartbeat_due) return {};
    *out.mutable_heartbeat()->mutable_server_time() =
        ToProto(deps_.engine.clock().Now());
  }
  started_ = true;
  // Within a round the token stays at its start (seq_ moves at its end).
  out.set_resume_token(Token(seq_));
  if (more || out.has_change() || out.has_reset()) Wake();
  return {std::move(out), false, absl::OkStatus()};
}

}  // namespace

JobViewsService::JobViewsService(JobViewsDeps deps)
    : deps_(deps), watches_(std::make_unique<JobWatches>(deps.index)) {}

JobViewsService::~JobViewsService() = default;

void JobViewsService::CloseWatches() { watches_->CloseAll(); }

grpc::ServerWriteReactor<v1::WatchJobsResponse>* JobViewsService::WatchJobs(
    grpc::CallbackServerContext* ctx, const v1::WatchJobsRequest* req) {
  absl::StatusOr<auth::Principal> principal = deps_.rpc.Admit(ctx, "WatchJobs");
  auto stream =
      std::make_shared<WatchJobsStream>(principal.status(), *req, deps_);
  stream->set_watches(watches_.get());
  stream->set_id(watches_->Add(stream));
  return stream->Begin();
}

}  // namespace trainyard::jobs
