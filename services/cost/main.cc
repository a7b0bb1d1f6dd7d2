// Copyright 2026 Trainyard authors.
//
// trainyard-cost: wiring only (cost_module.h assembles the service).
#include "common/server/run_service.h"
#include "services/cost/cost_module.h"

int main(int argc, char** argv) {
  using namespace trainyard;
  cost::CostConfig config;
  server::ServiceDefinition definition =
      server::DefaultDefinition("cost", 7104, 7114);
  definition.column_families = cost::CostColumnFamilies();
  definition.add_flags = [&config](config::FlagSet& flags) {
    cost::AddCostFlags(flags, &config);
  };
  definition.build = [&config](server::ServiceContext& ctx)
      -> absl::StatusOr<std::unique_ptr<server::ServiceModule>> {
    auto module = cost::BuildCost(ctx, config);
    if (!module.ok()) return module.status();
    return std::unique_ptr<server::ServiceModule>(*std::move(module));
  };
  return server::RunService(argc, argv, definition);
}
