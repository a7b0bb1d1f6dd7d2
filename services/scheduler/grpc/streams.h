// Copyright 2026 Trainyard authors.
//
// The scheduler's two server streams, both PullStreams woken by every change
// of the Scheduler:
//   WatchAssignments: held slots' assignments after the client's cursor, in
//     order; at least once (a reconnect with the last processed cursor gets
//     every later assignment again); heartbeats when idle.
//   WatchQueue: a complete QueueSnapshot when the version changed, at most
//     one per min_update_interval; heartbeats when idle.
#pragma once

#include <map>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "common/server/pull_stream.h"
#include "services/scheduler/app/scheduler.h"
#include "trainyard/scheduler/v1/scheduler.pb.h"

namespace trainyard::scheduler {

// Open streams, so that shutdown can end them. Thread-safe.
class StreamSet {
 public:
  int Add(std::function<void()> close);
  void Remove(int id);
  void CloseAll();

 private:
  absl::Mutex mu_;
  std::map<int, std::function<void()>> close_ ABSL_GUARDED_BY(mu_);
  int next_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// What both streams need. References outlive the streams.
struct StreamDeps {
  Scheduler& scheduler;
  StreamSet& streams;
  server::Executor& executor;
  server::DeadlineTimer& timer;
  const Clock& wall_clock;
  const Clock& clock;  // suite time, for heartbeats
  absl::Duration heartbeat = absl::Seconds(15);
};

// `admitted` is the auth verdict.
grpc::ServerWriteReactor<v1::WatchAssignmentsResponse>* StartAssignmentWatch(
    absl::Status admitted, const v1::WatchAssignmentsRequest& request,
    const StreamDeps& deps);

grpc::ServerWriteReactor<v1::WatchQueueResponse>* StartQueueWatch(
    absl::Status admitted, const v1::WatchQueueRequest& request,
    const StreamDeps& deps);

}  // namespace trainyard::scheduler
