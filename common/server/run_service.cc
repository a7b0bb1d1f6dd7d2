// Copyright 2026 Trainyard authors.
#include "common/server/run_service.h"

#include <iostream>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/server/admin_checkpoint.h"
#include "common/server/signals.h"
#include "common/status/status_macros.h"
#include "common/storage/rocksdb_metrics.h"
#include "common/strings/absl_view.h"

namespace trainyard::server {
namespace {

constexpr int kExitBadConfig = 2;
constexpr int kExitFailed = 1;

absl::StatusOr<std::unique_ptr<auth::Authenticator>> MakeAuthenticator(
    const ServerConfig& config) {
  if (config.tokens_file.empty()) return auth::Authenticator::Open();
  absl::StatusOr<std::unique_ptr<auth::Authenticator>> a =
      auth::Authenticator::FromTokensFile(config.tokens_file);
  if (!a.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tokens_file: ", a.status().message()));
  }
  return a;
}

absl::Status Serve(const ServiceDefinition& def, const ServerConfig& config,
                   Logger& logger, const Clock& wall_clock, const Clock& clock,
                   const auth::Authenticator& authn) {
  storage::Options db_options;
  db_options.path = config.data_dir;
  db_options.name = def.db_name;
  db_options.column_families = def.column_families;
  db_options.sync_writes = config.sync_writes;
  db_options.block_cache_bytes =
      static_cast<size_t>(config.storage_memory_bytes);
  db_options.memtable_bytes = static_cast<size_t>(config.memtable_bytes);
  db_options.min_free_bytes =
      static_cast<uint64_t>(config.storage_reserve_bytes);
  ASSIGN_OR_RETURN(std::unique_ptr<storage::Db> db,
                   storage::Db::Open(db_options));

  {
    ServiceHost host(config, logger, wall_clock, authn);
    host.exposition().Add(
        std::make_shared<storage::RocksDbMetricsCollector>(db.get()));
    // Not ready while writes fail on a full or failing disk (says which);
    // each check also tries to resume them.
    host.AddReadinessCheck([&db] { return db->CheckWritable(); });
    AddCheckpointRoute(host.admin(), *db, config.checkpoint_dir, authn,
                       wall_clock, logger);
    ServiceContext ctx{config, logger, clock, wall_clock, *db, host};
    ASSIGN_OR_RETURN(std::unique_ptr<ServiceModule> module, def.build(ctx));
    // The host's drain callbacks and periodic tasks reach into the module:
    // on every way out of this block (a failed Start or Warmup included),
    // the host shuts down before the module is destroyed.
    absl::Cleanup shutdown_host_first = [&host] { host.Shutdown(); };
    RETURN_IF_ERROR(host.Start());
    RETURN_IF_ERROR(module->Warmup());
    host.MarkServing();
    int signal = WaitForTerminationSignal();
    logger.Info("server.signal", {{"signal", absl::StrCat(signal)}});
  }
  RETURN_IF_ERROR(db->Close());
  logger.Info("storage.closed", {{"data_dir", config.data_dir}});
  return absl::OkStatus();
}

}  // namespace

ServiceDefinition DefaultDefinition(std::string_view name, int grpc_port,
                                    int admin_port) {
  ServiceDefinition def;
  def.program = absl::StrCat("trainyard-", ToAbsl(name));
  def.db_name = std::string(name);
  def.defaults.grpc_address = absl::StrCat("127.0.0.1:", grpc_port);
  def.defaults.admin_address = absl::StrCat("127.0.0.1:", admin_port);
  def.defaults.data_dir = absl::StrCat("var/data/", ToAbsl(name));
  def.defaults.checkpoint_dir = absl::StrCat("var/checkpoints/", ToAbsl(name));
  return def;
}

int RunService(int argc, char** argv, const ServiceDefinition& def) {
  BlockTerminationSignals();
  // Debian's Abseil is built with Mutex deadlock detection on: a cycle graph
  // update on every Lock/Unlock (12% of an idle server with 10,000 streams).
  // Lock order is kept by design and by the tests, not at run time.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  ServerConfig config = def.defaults;
  config::FlagSet flags(def.program);
  AddServerFlags(flags, &config);
  if (def.add_flags) def.add_flags(flags);
  absl::Status status = flags.Parse(argc, argv);
  if (status.ok() && flags.help_requested()) {
    std::cout << flags.Usage();
    return 0;
  }
  if (status.ok()) status = ValidateServerConfig(config);
  if (status.ok() && def.validate) status = def.validate();
  if (!status.ok()) {
    std::cerr << def.program << ": " << status.message() << "\n";
    return kExitBadConfig;
  }
  RealClock wall_clock;
  ScaledClock clock(wall_clock,
                    process::SuiteTimeOrigin(config.process, wall_clock.Now()),
                    config.process.time_scale);
  std::unique_ptr<Logger> owned_logger =
      process::MakeLogger(config.process, wall_clock);
  Logger& logger = *owned_logger;
  absl::StatusOr<std::unique_ptr<auth::Authenticator>> authn =
      MakeAuthenticator(config);
  if (!authn.ok()) {
    std::cerr << def.program << ": " << authn.status().message() << "\n";
    return kExitBadConfig;
  }
  logger.Info("server.starting",
              {{"program", def.program},
               {"grpc_address", config.grpc_address},
               {"admin_address", config.admin_address},
               {"data_dir", config.data_dir},
               {"time_scale", absl::StrCat(config.process.time_scale)}});
  status = Serve(def, config, logger, wall_clock, clock, **authn);
  if (!status.ok()) {
    logger.Error("server.failed", {{"error", status.ToString()}});
    std::cerr << def.program << ": " << status.message() << "\n";
    return status.code() == absl::StatusCode::kInvalidArgument ? kExitBadConfig
                                                               : kExitFailed;
  }
  return 0;
}

}  // namespace trainyard::server
