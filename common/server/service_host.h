// Copyright 2026 Trainyard authors.
//
// Everything a service process serves besides its own handlers: the gRPC
// server (callback services, grpc.health.v1, reflection, message size limit,
// keepalive, TLS/mTLS, interceptors) and the admin HTTP server (/metrics,
// /healthz, /readyz, plus routes the service adds).
//
//   ServiceHost host(config, logger, wall_clock, authenticator);
//   RETURN_IF_ERROR(
//       host.AddService(&jobs_service, "trainyard.jobs.v1.JobService"));
//   host.admin().Handle(http::Method::kPost, "/v1/webhooks/runpod/{job_id}",
//                       ...);
//   RETURN_IF_ERROR(host.Start());  // listening, health NOT_SERVING
//   ... warm up (rebuild in-memory indexes) ...
//   host.MarkServing();               // health SERVING, /readyz 200
//   host.Shutdown();                  // NOT_SERVING, drain, stop
//
// Lifecycle: configure (AddService, admin routes) → Start → Shutdown. All
// references given to the constructor must outlive the host.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/access_policy.h"
#include "common/auth/authenticator.h"
#include "common/http/server.h"
#include "common/logging/logger.h"
#include "common/server/deadline_timer.h"
#include "common/server/executor.h"
#include "common/server/health_service.h"
#include "common/server/rpc.h"
#include "common/server/server_config.h"
#include "common/server/service_phase.h"
#include "common/telemetry/exposition.h"
#include "common/telemetry/grpc_metrics.h"
#include "common/time/clock.h"
#include "prometheus/registry.h"

namespace trainyard::server {

// The admin server's own request body limit: above every route's limit
// (metrics' webhooks take 1 MiB), so that routes answer their own 413s.
inline constexpr size_t kAdminMaxBodyBytes = 4 << 20;

class ServiceHost {
 public:
  ServiceHost(const ServerConfig& config, Logger& logger,
              const Clock& wall_clock,
              const auth::Authenticator& authenticator);
  // Shuts down if still running.
  ~ServiceHost();

  ServiceHost(const ServiceHost&) = delete;
  ServiceHost& operator=(const ServiceHost&) = delete;

  // The service's own metrics go here; exported at /metrics.
  prometheus::Registry& registry() { return *registry_; }
  // Add other collectables (e.g. RocksDB statistics) to /metrics.
  telemetry::Exposition& exposition() { return exposition_; }
  // Add routes before Start. The server refuses bodies over
  // kAdminMaxBodyBytes itself (413, not seen by any handler); a route that
  // takes bodies sets its own lower limit and answers (and counts) its 413s.
  http::HttpServer& admin() { return *admin_; }

  // Runs `hook` when Shutdown begins (after health turns NOT_SERVING, before
  // the drain): end long-lived streams here. Before Start.
  void OnDrain(std::function<void()> hook) {
    drain_hooks_.push_back(std::move(hook));
  }

  // Adds a readiness check: while serving, /readyz answers 503 with the
  // check's message (and ErrorInfo reason) when it fails, e.g. writes
  // stopped by a full disk. Runs on each /readyz request. Before Start.
  void AddReadinessCheck(std::function<absl::Status()> check) {
    readiness_checks_.push_back(std::move(check));
  }

  // The wall-clock timer the handlers share (deadlines, stream pacing).
  DeadlineTimer& timer() { return timer_; }

  // Periodic work (stall checks, estimate ticks, cost refreshes): runs `fn`
  // on the bulk executor (background CPU priority) every `interval` of wall
  // time, from MarkServing (after Warmup rebuilt the state it reads) until
  // Shutdown begins. Runs of one `fn` never overlap: the next is due
  // `interval` after one ends. Shutdown waits for a run in progress, so `fn`
  // may use anything that outlives the host's Shutdown. Before Start.
  // REQUIRES: interval > 0.
  void Every(absl::Duration interval, std::function<void()> fn);

  // An Rpc for a service's handlers. `policy` must outlive the host.
  std::unique_ptr<Rpc> MakeRpc(const auth::AccessPolicy& policy);

  // Registers a callback service by its full proto name (for health and the
  // metric labels). `service` must outlive the host. Before Start.
  // kInvalidArgument when the name is not in the linked descriptor pool.
  absl::Status AddService(grpc::Service* service, std::string_view full_name);

  // Binds both ports and serves, with health NOT_SERVING and /readyz 503
  // until MarkServing. kUnavailable when a port cannot be bound; a bad TLS
  // file is kInvalidArgument naming the setting.
  absl::Status Start();

  // Health SERVING and /readyz 200. No effect after Shutdown.
  void MarkServing();

  // Health NOT_SERVING and /readyz 503, health watches ended, no new calls;
  // in-flight calls get config.drain_timeout, then are cancelled; then the
  // admin server stops. Idempotent.
  void Shutdown();

  int grpc_port() const { return grpc_port_; }
  int admin_port() const { return admin_port_; }
  // kStarting until MarkServing, kServing, then kDraining from Shutdown on
  // (a MarkServing after Shutdown changes nothing).
  ServicePhase phase() const { return phase_.load(); }
  bool serving() const { return phase() == ServicePhase::kServing; }

 private:
  void AddAdminRoutes();
  struct Periodic {
    absl::Duration interval;
    std::function<void()> fn;
  };
  // Schedules periodic_[i]'s next run, unless periodic work has stopped.
  void SchedulePeriodic(size_t i) ABSL_EXCLUSIVE_LOCKS_REQUIRED(periodic_mu_);
  // Stops scheduling periodic work and waits for runs in progress.
  void StopPeriodic();

  const ServerConfig& config_;
  Logger& logger_;
  const Clock& wall_clock_;
  const auth::Authenticator& authenticator_;

  std::shared_ptr<prometheus::Registry> registry_;
  telemetry::Exposition exposition_;
  telemetry::GrpcServerMetrics grpc_metrics_;
  HealthService health_;
  Executor executor_;
  Executor bulk_executor_;
  DeadlineTimer timer_;
  std::unique_ptr<http::HttpServer> admin_;
  absl::Status admin_address_error_;
  std::vector<grpc::Service*> services_;
  std::vector<std::function<void()>> drain_hooks_;
  std::vector<std::function<absl::Status()>> readiness_checks_;
  std::vector<Periodic> periodic_;  // fixed at Start
  absl::Mutex periodic_mu_;
  bool periodic_stopped_ ABSL_GUARDED_BY(periodic_mu_) = false;
  // Pending timer entries, by periodic_ index; removed when they fire.
  std::map<size_t, DeadlineTimer::Id> periodic_pending_
      ABSL_GUARDED_BY(periodic_mu_);
  int periodic_running_ ABSL_GUARDED_BY(periodic_mu_) = 0;
  std::unique_ptr<grpc::Server> server_;
  int grpc_port_ = 0;
  int admin_port_ = 0;
  std::atomic<ServicePhase> phase_{ServicePhase::kStarting};
  bool started_ = false;
  std::atomic<bool> shut_down_{false};
};

}  // namespace trainyard::server
