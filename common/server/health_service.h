// Copyright 2026 Trainyard authors.
//
// grpc.health.v1.Health, implemented here (not gRPC's built-in one) so that
// server reflection can describe it (traps.md). Statuses: "" (the whole
// server) and each registered service name. NOT_SERVING while starting and
// while draining; SERVING in between.
//
// Thread-safe. Shutdown() ends every Watch stream so that server shutdown
// never waits on one.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace trainyard::server {

class HealthService final : public grpc::health::v1::Health::CallbackService {
 public:
  using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

  // Declares a service name (NOT_SERVING until SetAllServing).
  void AddService(const std::string& name);
  // Sets "" and every declared service.
  void SetAllServing(bool serving);
  // NOT_SERVING everywhere, then finishes every Watch stream.
  void Shutdown();

  grpc::ServerUnaryReactor* Check(
      grpc::CallbackServerContext* ctx,
      const grpc::health::v1::HealthCheckRequest* request,
      grpc::health::v1::HealthCheckResponse* response) override;

  grpc::ServerWriteReactor<grpc::health::v1::HealthCheckResponse>* Watch(
      grpc::CallbackServerContext* ctx,
      const grpc::health::v1::HealthCheckRequest* request) override;

 private:
  class Watcher;
  ServingStatus StatusOf(const std::string& service) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends each watcher its current status. Takes mu_ only to read; gRPC may
  // run reactions inline, so no lock is held while writing.
  void NotifyAll() ABSL_LOCKS_EXCLUDED(mu_);
  std::shared_ptr<Watcher> Forget(Watcher* w) ABSL_LOCKS_EXCLUDED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, bool> serving_ ABSL_GUARDED_BY(mu_) = {{"", false}};
  // Owns each live Watch reactor until its OnDone.
  std::map<Watcher*, std::shared_ptr<Watcher>> watchers_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace trainyard::server
