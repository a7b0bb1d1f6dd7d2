// Copyright 2026 Trainyard authors.
//
// The wrapper every handler runs in. A service's callback method is one
// statement:
//
//   grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* ctx,
//                                    const GetJobRequest* req,
//                                    GetJobResponse* resp) override {
//     return rpc_.Unary(
//         ctx, "GetJob", req, resp,
//         [this](const CallInfo& call, const GetJobRequest& r,
//                GetJobResponse& out) { return DoGetJob(call, r, out); });
//   }
//
// It authenticates the caller (UNAUTHENTICATED), checks the service's access
// policy (PERMISSION_DENIED), runs the handler on the service's executor (not
// on a gRPC thread), turns its absl::Status into grpc::Status with details
// (common/status), and bounds calls that carry no deadline: past the bound
// the client gets DEADLINE_EXCEEDED and the handler's late result is dropped.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <string_view>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/auth/access_policy.h"
#include "common/auth/authenticator.h"
#include "common/server/deadline_timer.h"
#include "common/server/executor.h"
#include "common/status/grpc_status.h"
#include "common/time/clock.h"

namespace trainyard::server {

// What a handler knows of its call.
struct CallInfo {
  auth::Principal principal;
  // The client's deadline, or now + the unary bound when it sent none.
  absl::Time deadline;
};

// The parts a service's handlers share. All references must outlive it.
class Rpc {
 public:
  Rpc(const auth::Authenticator& authenticator,
      const auth::AccessPolicy& policy, Executor& executor,
      Executor& bulk_executor, DeadlineTimer& timer, const Clock& wall_clock,
      absl::Duration unary_bound);

  // Where a unary handler runs: kInteractive (queries, small writes) on the
  // service's executor; kBulk (batch ingest) on the bulk executor, whose
  // lower-priority threads never delay an interactive call for long. (No
  // handler runs on gRPC's threads: even an in-memory read takes a job's
  // lock, which ingest holds across its write and fsync; traps.md.)
  enum class Lane { kInteractive, kBulk };

  // Authenticates and authorizes a call to `method` (short name, e.g.
  // "GetJob"). Server streams use this directly.
  absl::StatusOr<auth::Principal> Admit(grpc::CallbackServerContext* ctx,
                                        std::string_view method) const;

  // The handler's `absl::Status(const CallInfo&, const Req&, Resp&)` runs on
  // the executor of `lane`. The wrapper takes the request's contents (swapped
  // out, no copy): the request object must not be used after this call.
  template <typename Req, typename Resp, typename Handler>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx,
                                  std::string_view method, const Req* request,
                                  Resp* response, Handler handler,
                                  Lane lane = Lane::kInteractive);

  const auth::AccessPolicy& policy() const { return policy_; }
  Executor& executor() { return executor_; }

 private:
  // Finishes a reactor exactly once, from whichever side gets there first.
  struct Once {
    explicit Once(grpc::ServerUnaryReactor* r) : reactor(r) {}
    bool Claim() { return !claimed.exchange(true); }
    grpc::ServerUnaryReactor* const reactor;
    std::atomic<bool> claimed{false};
  };

  absl::Time EffectiveDeadline(grpc::CallbackServerContext* ctx,
                               bool* bounded) const;

  const auth::Authenticator& authenticator_;
  const auth::AccessPolicy& policy_;
  Executor& executor_;
  Executor& bulk_executor_;
  DeadlineTimer& timer_;
  const Clock& wall_clock_;
  const absl::Duration unary_bound_;
};

template <typename Req, typename Resp, typename Handler>
grpc::ServerUnaryReactor* Rpc::Unary(grpc::CallbackServerContext* ctx,
                                     std::string_view method,
                                     const Req* request, Resp* response,
                                     Handler handler, Lane lane) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  absl::StatusOr<auth::Principal> principal = Admit(ctx, method);
  if (!principal.ok()) {
    reactor->Finish(ToGrpcStatus(principal.status()));
    return reactor;
  }
  bool bounded = false;
  CallInfo call{*std::move(principal), EffectiveDeadline(ctx, &bounded)};
  auto once = std::make_shared<Once>(reactor);
  DeadlineTimer::Id timer_id = 0;
  if (bounded) {
    timer_id = timer_.Schedule(call.deadline, [once] {
      if (once->Claim()) {
        once->reactor->Finish(grpc::Status(
            grpc::StatusCode::DEADLINE_EXCEEDED,
            "no answer within the server's bound for calls without a "
            "deadline; set a deadline or retry"));
      }
    });
  }
  // The request lives in gRPC's call arena until the reactor is done; take its
  // contents so a late handler never reads freed memory.
  auto owned = std::make_unique<Req>();
  owned->Swap(const_cast<Req*>(request));
  auto run = [this, once, timer_id, response, call = std::move(call),
              owned = std::move(owned),
              handler = std::move(handler)]() mutable {
    Resp local;
    absl::Status status = handler(call, *owned, local);
    if (!once->Claim()) return;  // the bound answered already
    if (timer_id != 0) timer_.Cancel(timer_id);
    if (status.ok()) response->Swap(&local);
    once->reactor->Finish(ToGrpcStatus(status));
  };
  (lane == Lane::kBulk ? bulk_executor_ : executor_).Submit(std::move(run));
  return reactor;
}

}  // namespace trainyard::server
