// Copyright 2026 Trainyard authors.
#include "services/scheduler/grpc/streams.h"

#include <algorithm>

#include "common/status/errors.h"
#include "common/time/proto_time.h"
#include "services/scheduler/grpc/tokens.h"

namespace trainyard::scheduler {
namespace {

constexpr size_t kMaxAssignmentsPerMessage = 100;

// A PullStream registered with the scheduler (woken by changes) and with the
// StreamSet (closed at shutdown) for as long as it lives.
template <typename Resp>
class SchedulerStream : public server::PullStream<Resp> {
 public:
  SchedulerStream(const StreamDeps& deps, absl::Duration min_interval)
      : server::PullStream<Resp>(deps.executor, deps.timer, deps.wall_clock,
                                 {min_interval, deps.heartbeat}),
        scheduler_(deps.scheduler),
        streams_(deps.streams),
        clock_(deps.clock) {}

  // Registers `self` and starts it.
  static grpc::ServerWriteReactor<Resp>* Start(
      std::shared_ptr<SchedulerStream> self) {
    std::weak_ptr<SchedulerStream> weak = self;
    self->listener_ = self->scheduler_.AddListener([weak] {
      if (auto s = weak.lock()) s->Wake();
    });
    self->stream_id_ = self->streams_.Add([weak] {
      if (auto s = weak.lock()) s->Close();
    });
    std::shared_ptr<server::PullStream<Resp>> stream = std::move(self);
    return stream->Begin();
  }

 protected:
  void OnStreamDone() override {
    scheduler_.RemoveListener(listener_);
    streams_.Remove(stream_id_);
  }
  common::v1::StreamHeartbeat Heartbeat() const {
    common::v1::StreamHeartbeat h;
    *h.mutable_server_time() = ToProto(clock_.Now());
    return h;
  }

  Scheduler& scheduler_;
  StreamSet& streams_;
  const Clock& clock_;
  int listener_ = 0;
  int stream_id_ = 0;
};

class AssignmentWatch final
    : public SchedulerStream<v1::WatchAssignmentsResponse> {
 public:
  AssignmentWatch(absl::Status init, uint64_t cursor, const StreamDeps& deps)
      : SchedulerStream(deps, absl::ZeroDuration()),
        init_(std::move(init)),
        cursor_(cursor) {}

 private:
  Step Next(bool heartbeat_due) override {
    if (!init_.ok()) return {std::nullopt, true, init_};
    std::vector<SequencedAssignment> batch =
        scheduler_.AssignmentsAfter(cursor_, kMaxAssignmentsPerMessage);
    v1::WatchAssignmentsResponse out;
    if (batch.empty()) {
      if (!heartbeat_due) return {};
      *out.mutable_heartbeat() = Heartbeat();
    }
    for (auto& a : batch) {
      cursor_ = a.seq;
      *out.add_assignments() = std::move(a.assignment);
    }
    out.set_cursor(EncodeAssignmentCursor(cursor_));
    return {std::move(out)};
  }

  const absl::Status init_;
  uint64_t cursor_;  // touched only by Next()
};

class QueueWatch final : public SchedulerStream<v1::WatchQueueResponse> {
 public:
  QueueWatch(absl::Status init, absl::Duration interval, int max_entries,
             const StreamDeps& deps)
      : SchedulerStream(deps, interval),
        init_(std::move(init)),
        max_entries_(max_entries) {}

 private:
  Step Next(bool heartbeat_due) override {
    if (!init_.ok()) return {std::nullopt, true, init_};
    v1::WatchQueueResponse out;
    if (!sent_any_ || scheduler_.version() != last_version_) {
      *out.mutable_snapshot() = scheduler_.Snapshot(max_entries_);
      last_version_ = out.snapshot().version();
      sent_any_ = true;
      return {std::move(out)};
    }
    if (!heartbeat_due) return {};
    *out.mutable_heartbeat() = Heartbeat();
    return {std::move(out)};
  }

  const absl::Status init_;
  const int max_entries_;
  bool sent_any_ = false;  // touched only by Next()
  uint64_t last_version_ = 0;
};

}  // namespace

int StreamSet::Add(std::function<void()> close) {
  bool closed;
  int id;
  {
    absl::MutexLock lock(&mu_);
    id = ++next_;
    closed = closed_;
    if (!closed) close_[id] = close;
  }
  if (closed) close();  // opened during shutdown
  return id;
}

void StreamSet::Remove(int id) {
  absl::MutexLock lock(&mu_);
  close_.erase(id);
}

void StreamSet::CloseAll() {
  std::map<int, std::function<void()>> all;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    all.swap(close_);
  }
  for (auto& [id, close] : all) close();
}

grpc::ServerWriteReactor<v1::WatchAssignmentsResponse>* StartAssignmentWatch(
    absl::Status admitted, const v1::WatchAssignmentsRequest& request,
    const StreamDeps& deps) {
  uint64_t cursor = 0;
  if (admitted.ok()) {
    absl::StatusOr<uint64_t> seq =
        DecodeAssignmentCursor("cursor", request.cursor());
    if (seq.ok()) {
      cursor = *seq;
    } else {
      admitted = seq.status();
    }
  }
  auto stream =
      std::make_shared<AssignmentWatch>(std::move(admitted), cursor, deps);
  return AssignmentWatch::Start(stream);
}

grpc::ServerWriteReactor<v1::WatchQueueResponse>* StartQueueWatch(
    absl::Status admitted, const v1::WatchQueueRequest& request,
    const StreamDeps& deps) {
  absl::Duration interval = FromProto(request.min_update_interval());
  if (admitted.ok() && interval < absl::ZeroDuration()) {
    admitted = InvalidFieldError("min_update_interval", "must not be negative");
  }
  if (admitted.ok() && request.max_entries() < 0) {
    admitted = InvalidFieldError("max_entries", "must not be negative");
  }
  if (interval == absl::ZeroDuration()) interval = absl::Seconds(1);
  interval = std::clamp(interval, absl::Seconds(1), absl::Seconds(60));
  int max_entries =
      request.max_entries() == 0 ? 100 : std::min(request.max_entries(), 500);
  auto stream = std::make_shared<QueueWatch>(std::move(admitted), interval,
                                             max_entries, deps);
  return QueueWatch::Start(stream);
}

}  // namespace trainyard::scheduler
