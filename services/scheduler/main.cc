// Copyright 2026 Trainyard authors.
//
// trainyard-scheduler: wiring only (scheduler_module.h assembles the service).
#include "common/server/run_service.h"
#include "services/scheduler/scheduler_module.h"

int main(int argc, char** argv) {
  using namespace trainyard;
  scheduler::SchedulerConfig config;
  server::ServiceDefinition definition =
      server::DefaultDefinition("scheduler", 7102, 7112);
  definition.column_families = scheduler::SchedulerColumnFamilies();
  definition.add_flags = [&config](config::FlagSet& flags) {
    scheduler::AddSchedulerFlags(flags, &config);
  };
  definition.build = [&config](server::ServiceContext& ctx)
      -> absl::StatusOr<std::unique_ptr<server::ServiceModule>> {
    auto module = scheduler::BuildScheduler(ctx, config);
    if (!module.ok()) return module.status();
    return std::unique_ptr<server::ServiceModule>(std::move(*module));
  };
  return server::RunService(argc, argv, definition);
}
