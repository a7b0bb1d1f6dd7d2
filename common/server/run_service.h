// Copyright 2026 Trainyard authors.
//
// The whole life of a service process, shared by the four binaries so that
// each main.cc is wiring only:
//   parse settings (shared + the service's own; --help prints them) → validate
//   → logger, clocks, authenticator → open RocksDB → build the service →
//   start (NOT_SERVING) → warm up → SERVING → wait for SIGTERM/SIGINT → drain →
//   close RocksDB.
// A bad setting stops the start with a message naming it (exit code 2); a
// failure to start is exit code 1.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/flags.h"
#include "common/logging/logger.h"
#include "common/server/server_config.h"
#include "common/server/service_host.h"
#include "common/storage/db.h"
#include "common/time/clock.h"

namespace trainyard::server {

// What a service's build step gets. Everything outlives the built module.
struct ServiceContext {
  const ServerConfig& config;
  Logger& logger;
  const Clock& clock;       // suite time (scaled by --time_scale)
  const Clock& wall_clock;  // real time, for timeouts
  storage::Db& db;
  ServiceHost& host;
};

// What a service builds: its handlers, stores and domain objects, kept alive
// from before Start until after the server has drained.
class ServiceModule {
 public:
  virtual ~ServiceModule() = default;
  // Runs after the ports are bound, while health says NOT_SERVING: rebuild
  // in-memory indexes from RocksDB, resume background work.
  virtual absl::Status Warmup() { return absl::OkStatus(); }
};

struct ServiceDefinition {
  std::string program;  // e.g. "trainyard-jobs"
  std::string db_name;  // e.g. "jobs": the `db` label of RocksDB metrics
  ServerConfig defaults;
  std::vector<std::string> column_families;
  // Declares the service's own settings (bound to its own config struct).
  std::function<void(config::FlagSet&)> add_flags;
  // Checks the service's own settings; errors name the setting.
  std::function<absl::Status()> validate;
  // Builds the service and registers it with ctx.host (AddService, admin
  // routes, collectables).
  std::function<absl::StatusOr<std::unique_ptr<ServiceModule>>(ServiceContext&)>
      build;
};

// Runs the process; returns its exit code.
int RunService(int argc, char** argv, const ServiceDefinition& definition);

// The definition of trainyard-<name> at its default ports on loopback, with
// its data in var/data/<name>. The caller sets build (and its own flags).
ServiceDefinition DefaultDefinition(std::string_view name, int grpc_port,
                                    int admin_port);

// Serves a generated callback service with no method overridden: every RPC
// answers UNIMPLEMENTED until its issue builds it.
template <typename GeneratedService>
absl::StatusOr<std::unique_ptr<ServiceModule>> ServeUnimplemented(
    ServiceContext& ctx, std::string_view full_name) {
  struct Module : ServiceModule {
    GeneratedService service;
  };
  auto module = std::make_unique<Module>();
  absl::Status status = ctx.host.AddService(&module->service, full_name);
  if (!status.ok()) return status;
  return module;
}

}  // namespace trainyard::server
