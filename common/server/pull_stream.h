// Copyright 2026 Trainyard authors.
//
// A live server stream whose messages are computed on demand from durable
// state rather than queued: when woken (new data) or when a heartbeat is due,
// it asks Next() for the next message on the executor and writes it. At most
// one message exists per subscriber, so a slow subscriber costs no memory and
// never slows writers: it simply reads further behind (and Next() may decide
// to tell it it fell behind). Coalescing: at most one message per
// `min_interval`. Ends with Next()'s verdict, on cancel, or at Close().
//
// Lifetime: owned by a shared_ptr to itself until OnDone; timer and executor
// tasks hold copies, and do nothing once the stream is done. No lock is held
// while calling StartWrite or Finish (gRPC may run reactions inline).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/server/deadline_timer.h"
#include "common/server/executor.h"
#include "common/status/grpc_status.h"
#include "common/time/clock.h"

namespace trainyard::server {

template <typename Resp>
class PullStream : public grpc::ServerWriteReactor<Resp>,
                   public std::enable_shared_from_this<PullStream<Resp>> {
 public:
  struct Timing {
    absl::Duration min_interval = absl::Seconds(1);
    absl::Duration heartbeat = absl::Seconds(15);
  };

  // What Next() decided.
  struct Step {
    std::optional<Resp> message;  // to write now (none: nothing new)
    bool end = false;             // finish after `message` with `status`
    absl::Status status;
    // A backlog waits behind `message` (e.g. a full batch was sent): the next
    // Next() runs as soon as it is written, not after min_interval, which is
    // for coalescing a trickle, not for pacing a reader that is behind.
    bool more = false;
  };

  PullStream(Executor& executor, DeadlineTimer& timer, const Clock& wall_clock,
             Timing timing)
      : executor_(executor),
        timer_(timer),
        wall_clock_(wall_clock),
        timing_(timing) {}

  // Starts the stream: the first Next() runs at once. Call once, right after
  // creating the stream with std::make_shared; returns the reactor for gRPC.
  grpc::ServerWriteReactor<Resp>* Begin() {
    {
      absl::MutexLock lock(&mu_);
      self_ = this->shared_from_this();
    }
    Wake();
    ScheduleHeartbeat();
    return this;
  }

  // New data may exist: compute the next message soon (thread-safe).
  void Wake() {
    absl::Time at;
    {
      absl::MutexLock lock(&mu_);
      if (done_ || ended_) return;
      dirty_ = true;
      if (writing_ || computing_ || scheduled_) return;
      scheduled_ = true;
      at = backlog_
               ? wall_clock_.Now()
               : std::max(wall_clock_.Now(), last_sent_ + timing_.min_interval);
    }
    auto self = self_ref();
    if (self == nullptr) return;
    timer_.Schedule(
        at, [self] { self->executor_.Submit([self] { self->Compute(); }); });
  }

  // Ends the stream cleanly (server shutdown). Thread-safe.
  void Close() { End(grpc::Status::OK); }

  void OnWriteDone(bool ok) override {
    // Written: free it now rather than at the next message, which for an
    // idle stream is a heartbeat 15 s later (a snapshot with two 1,000-point
    // curves is ~130 KB; 10,000 viewers of a job held 1.3 GB). Still ours:
    // writing_ keeps Compute from touching message_ until below.
    Resp().Swap(&message_);
    bool finish = false;
    bool wake = false;
    grpc::Status status;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok && !ended_) {
        ended_ = true;
        end_status_ = grpc::Status::CANCELLED;
      }
      if (ended_) {
        finish = true;
        status = end_status_;
      } else {
        wake = dirty_;
      }
    }
    if (finish) {
      this->Finish(status);
    } else if (wake) {
      Wake();
    }
  }

  void OnCancel() override { End(grpc::Status::CANCELLED); }

  void OnDone() override {
    {
      absl::MutexLock lock(&mu_);
      done_ = true;
    }
    OnStreamDone();
    // Pending tasks may still hold a reference; they see done_. The last
    // reference may destroy `this` (and mu_), so it is dropped unlocked.
    std::shared_ptr<PullStream> self;
    {
      absl::MutexLock lock(&mu_);
      self = std::move(self_);
    }
  }

 protected:
  // The next message, computed on the executor. `heartbeat_due`: nothing was
  // sent for the heartbeat interval.
  virtual Step Next(bool heartbeat_due) = 0;
  // Called once when gRPC is done with the stream (e.g. to unregister).
  virtual void OnStreamDone() {}

 private:
  // Ends with `status` now, or after the write or computation in flight.
  void End(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (ended_) return;
      ended_ = true;
      end_status_ = status;
      if (writing_ || computing_) return;
    }
    this->Finish(status);
  }

  std::shared_ptr<PullStream> self_ref() {
    absl::MutexLock lock(&mu_);
    return self_;
  }

  // Checks at the moment the silence would reach the heartbeat interval
  // (last send + interval), so the gap between messages never exceeds it by
  // more than the time to compute and write the heartbeat.
  void ScheduleHeartbeat() {
    auto self = self_ref();
    if (self == nullptr) return;
    absl::Time at;
    {
      absl::MutexLock lock(&mu_);
      // Just after a due check (or before the first send): a full interval.
      const absl::Time now = wall_clock_.Now();
      at = last_sent_ + timing_.heartbeat > now ? last_sent_ + timing_.heartbeat
                                                : now + timing_.heartbeat;
    }
    timer_.Schedule(at, [self] {
      bool due;
      {
        absl::MutexLock lock(&self->mu_);
        if (self->done_ || self->ended_) return;
        due = self->wall_clock_.Now() - self->last_sent_ >=
              self->timing_.heartbeat;
        if (due) self->heartbeat_due_ = true;
      }
      if (due) self->Wake();
      self->ScheduleHeartbeat();
    });
  }

  void Compute() {
    bool heartbeat;
    {
      absl::MutexLock lock(&mu_);
      scheduled_ = false;
      if (done_ || ended_ || writing_ || computing_) return;
      computing_ = true;
      dirty_ = false;
      heartbeat = heartbeat_due_;
      heartbeat_due_ = false;
    }
    Step step = Next(heartbeat);
    bool write = false, finish = false, wake = false;
    grpc::Status status;
    {
      absl::MutexLock lock(&mu_);
      computing_ = false;
      backlog_ = step.more;
      if (step.more) dirty_ = true;
      if (step.message.has_value() && !ended_) {
        message_ = *std::move(step.message);
        writing_ = true;
        write = true;
        last_sent_ = wall_clock_.Now();
      }
      if (step.end && !ended_) {
        ended_ = true;
        end_status_ = ToGrpcStatus(step.status);
      }
      if (ended_ && !writing_) {
        finish = true;
        status = end_status_;
      }
      wake = !ended_ && !write && dirty_;
    }
    if (write) {
      this->StartWrite(&message_);
    } else if (finish) {
      this->Finish(status);
    } else if (wake) {
      Wake();
    }
  }

  Executor& executor_;
  DeadlineTimer& timer_;
  const Clock& wall_clock_;
  const Timing timing_;

  absl::Mutex mu_;
  std::shared_ptr<PullStream> self_ ABSL_GUARDED_BY(mu_);
  Resp message_;  // the one message in flight (owned by the writer)
  absl::Time last_sent_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  bool backlog_ ABSL_GUARDED_BY(mu_) = false;  // the last Step's `more`
  bool scheduled_ ABSL_GUARDED_BY(mu_) = false;
  bool computing_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool heartbeat_due_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status end_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trainyard::server
