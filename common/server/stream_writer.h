// Copyright 2026 Trainyard authors.
//
// A server stream fed by a producer that may block (a long export): the
// producer runs on the service's executor and hands each message to `sink`,
// which waits while a few messages are queued (flow control: a slow client
// slows the producer, never the transport) and fails with CANCELLED once the
// client is gone. The stream finishes with the producer's status after the
// queue drained. One write in flight at a time (traps.md); no lock is held
// while calling StartWrite or Finish.
//
//   return StartProducerStream<ExportEventsResponse>(rpc, ctx, "ExportEvents",
//       [this, req = *request](const CallInfo& call, auto sink) {
//         return store_.Export(req, clock_.Now(), sink);
//       });
#pragma once

#include <grpcpp/grpcpp.h>

#include <deque>
#include <functional>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "common/server/rpc.h"
#include "common/status/grpc_status.h"

namespace trainyard::server {

template <typename Resp>
class ProducerStream final : public grpc::ServerWriteReactor<Resp> {
 public:
  using Sink = std::function<absl::Status(const Resp&)>;
  using Producer = std::function<absl::Status(const CallInfo&, const Sink&)>;
  static constexpr size_t kMaxQueued = 4;

  ProducerStream() = default;

  // Starts the producer on `executor`. The reactor deletes itself when done.
  void Run(Executor& executor, CallInfo call, Producer producer) {
    executor.Submit([this, call = std::move(call),
                     producer = std::move(producer)]() mutable {
      Sink sink = [this](const Resp& message) { return Enqueue(message); };
      absl::Status status = producer(call, sink);
      {
        absl::MutexLock lock(&mu_);
        produced_ = true;
        final_status_ = ToGrpcStatus(status);
      }
      Pump();
    });
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      queue_.pop_front();
      if (!ok) cancelled_ = true;
    }
    Pump();
  }

  void OnCancel() override {
    {
      absl::MutexLock lock(&mu_);
      cancelled_ = true;
    }
    Pump();
  }

  void OnDone() override {
    // The producer has returned (finishing waits for it); nothing else refers
    // to this reactor.
    delete this;
  }

 private:
  absl::Status Enqueue(const Resp& message) {
    {
      absl::MutexLock lock(&mu_);
      auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return cancelled_ || queue_.size() < kMaxQueued;
      };
      mu_.Await(absl::Condition(&room));
      if (cancelled_) return absl::CancelledError("the client went away");
      queue_.push_back(message);
    }
    Pump();
    return absl::OkStatus();
  }

  // Starts the next write, or finishes once the producer is done and the
  // queue drained (or the client is gone).
  void Pump() {
    const Resp* next = nullptr;
    bool finish = false;
    grpc::Status status;
    {
      absl::MutexLock lock(&mu_);
      if (writing_ || finished_) return;
      if (cancelled_) {
        if (!produced_) return;  // wait for the producer to notice
        finish = true;
        status = grpc::Status::CANCELLED;
      } else if (!queue_.empty()) {
        writing_ = true;
        next = &queue_.front();  // stable: deque front until popped
      } else if (produced_) {
        finish = true;
        status = final_status_;
      } else {
        return;
      }
      if (finish) finished_ = true;
    }
    if (next != nullptr) {
      this->StartWrite(next);
    } else if (finish) {
      this->Finish(status);
    }
  }

  absl::Mutex mu_;
  std::deque<Resp> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool produced_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

// Authenticates and authorizes like Rpc::Unary, then streams what `producer`
// produces. Server streams carry no server-side deadline (traps.md).
template <typename Resp>
grpc::ServerWriteReactor<Resp>* StartProducerStream(
    Rpc& rpc, grpc::CallbackServerContext* ctx, std::string_view method,
    typename ProducerStream<Resp>::Producer producer) {
  auto* stream = new ProducerStream<Resp>();
  absl::StatusOr<auth::Principal> principal = rpc.Admit(ctx, method);
  if (!principal.ok()) {
    stream->Run(rpc.executor(), CallInfo{},
                [status = principal.status()](const CallInfo&, const auto&) {
                  return status;
                });
    return stream;
  }
  stream->Run(rpc.executor(),
              CallInfo{*std::move(principal), absl::InfiniteFuture()},
              std::move(producer));
  return stream;
}

}  // namespace trainyard::server
