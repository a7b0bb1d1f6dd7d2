// Copyright 2026 Trainyard authors.
//
// trainyard-metrics: wiring only (metrics_module.h assembles the service).
#include "common/server/run_service.h"
#include "services/metrics/metrics_module.h"

int main(int argc, char** argv) {
  using namespace trainyard;
  metrics::MetricsConfig config;
  server::ServiceDefinition definition =
      server::DefaultDefinition("metrics", 7103, 7113);
  definition.column_families = metrics::MetricsColumnFamilies();
  definition.add_flags = [&config](config::FlagSet& flags) {
    metrics::AddMetricsFlags(flags, &config);
  };
  definition.build = [&config](server::ServiceContext& ctx) {
    return metrics::BuildMetrics(ctx, config);
  };
  return server::RunService(argc, argv, definition);
}
