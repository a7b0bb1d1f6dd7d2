// Copyright 2026 Trainyard authors.
#include "common/server/health_service.h"

namespace trainyard::server {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Watch stream: the current status, then each change. At most one write
// is in flight (the newest status wins meanwhile); Finish waits for it and
// for a status that changed meanwhile. gRPC
// may run OnWriteDone/OnDone inline in StartWrite/Finish, so neither is ever
// called with a lock held.
class HealthService::Watcher final
    : public grpc::ServerWriteReactor<HealthCheckResponse> {
 public:
  Watcher(HealthService* owner, std::string service)
      : owner_(owner), service_(std::move(service)) {}

  const std::string& service() const { return service_; }

  // Statuses after End are dropped (a NotifyAll that raced Shutdown must not
  // send SERVING after NOT_SERVING, nor write after Finish).
  void Update(ServingStatus status) {
    {
      absl::MutexLock lock(&mu_);
      if (end_requested_) return;
      pending_ = status;
      if (!ClaimWriteLocked()) return;
    }
    StartWrite(&response_);
  }

  // Finishes with `status` once no write is in flight.
  void End(const grpc::Status& status) {
    {
      absl::MutexLock lock(&mu_);
      if (done_) return;
      end_status_ = status;
      end_requested_ = true;
      if (writing_) return;
      done_ = true;
    }
    Finish(status);
  }

  void OnWriteDone(bool ok) override {
    bool write = false;
    grpc::Status finish;
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) {
        broken_ = true;
        if (!end_requested_) {
          end_requested_ = true;
          end_status_ =
              grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
        }
      }
      // A status that changed while the last write was in flight still goes
      // out before Finish (shutdown's NOT_SERVING must reach the watcher).
      write = ClaimWriteLocked();
      if (!write) {
        if (!end_requested_ || done_) return;
        done_ = true;
        finish = end_status_;
      }
    }
    if (write) {
      StartWrite(&response_);
    } else {
      Finish(finish);
    }
  }

  void OnCancel() override {
    {
      absl::MutexLock lock(&mu_);
      broken_ = true;
    }
    End(grpc::Status::CANCELLED);
  }
  void OnDone() override {
    // The owner's reference goes with this scope; nothing follows it.
    std::shared_ptr<Watcher> self = owner_->Forget(this);
  }

 private:
  // Under mu_: prepares the next write if one is due and none is in flight.
  bool ClaimWriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (writing_ || broken_ || done_ || pending_ == last_sent_) return false;
    response_.set_status(pending_);
    last_sent_ = pending_;
    writing_ = true;
    return true;
  }

  HealthService* const owner_;
  const std::string service_;
  absl::Mutex mu_;
  HealthCheckResponse response_;  // written only by the write owner
  ServingStatus pending_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  ServingStatus last_sent_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool end_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool broken_ ABSL_GUARDED_BY(mu_) = false;  // cancelled or a write failed
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status end_status_ ABSL_GUARDED_BY(mu_);
};

void HealthService::AddService(const std::string& name) {
  absl::MutexLock lock(&mu_);
  serving_.emplace(name, false);
}

void HealthService::SetAllServing(bool serving) {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return;
    for (auto& [name, s] : serving_) s = serving;
  }
  NotifyAll();
}

void HealthService::Shutdown() {
  std::vector<std::shared_ptr<Watcher>> watchers;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [name, s] : serving_) s = false;
    shut_down_ = true;
    for (auto& [raw, w] : watchers_) watchers.push_back(w);
  }
  for (auto& w : watchers) {
    w->Update(HealthCheckResponse::NOT_SERVING);
    w->End(grpc::Status::OK);
  }
}

HealthService::ServingStatus HealthService::StatusOf(
    const std::string& service) const {
  auto it = serving_.find(service);
  if (it == serving_.end()) return HealthCheckResponse::SERVICE_UNKNOWN;
  return it->second ? HealthCheckResponse::SERVING
                    : HealthCheckResponse::NOT_SERVING;
}

void HealthService::NotifyAll() {
  std::vector<std::pair<std::shared_ptr<Watcher>, ServingStatus>> updates;
  {
    absl::MutexLock lock(&mu_);
    for (auto& [raw, w] : watchers_) {
      updates.emplace_back(w, StatusOf(w->service()));
    }
  }
  for (auto& [w, status] : updates) w->Update(status);
}

std::shared_ptr<HealthService::Watcher> HealthService::Forget(Watcher* w) {
  absl::MutexLock lock(&mu_);
  auto node = watchers_.extract(w);
  return node.empty() ? nullptr : std::move(node.mapped());
}

grpc::ServerUnaryReactor* HealthService::Check(
    grpc::CallbackServerContext* ctx, const HealthCheckRequest* request,
    HealthCheckResponse* response) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  ServingStatus status;
  {
    absl::MutexLock lock(&mu_);
    status = StatusOf(request->service());
  }
  if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
    reactor->Finish(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                 "unknown service: " + request->service()));
  } else {
    response->set_status(status);
    reactor->Finish(grpc::Status::OK);
  }
  return reactor;
}

grpc::ServerWriteReactor<HealthCheckResponse>* HealthService::Watch(
    grpc::CallbackServerContext* ctx, const HealthCheckRequest* request) {
  auto watcher = std::make_shared<Watcher>(this, request->service());
  Watcher* raw = watcher.get();
  ServingStatus status;
  bool shut_down;
  {
    absl::MutexLock lock(&mu_);
    shut_down = shut_down_;
    status = StatusOf(request->service());
    watchers_.emplace(raw, std::move(watcher));  // owned until OnDone
  }
  raw->Update(status);
  if (shut_down) raw->End(grpc::Status::OK);
  return raw;
}

}  // namespace trainyard::server
