// Copyright 2026 Trainyard authors.
//
// trainyard-metrics: wiring only (common/server/run_service.h does the rest).
#include "common/server/run_service.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

int main(int argc, char** argv) {
  using namespace trainyard;
  server::ServiceDefinition definition =
      server::DefaultDefinition("metrics", 7103, 7113);
  definition.build = [](server::ServiceContext& ctx) {
    return server::ServeUnimplemented<
        metrics::v1::MetricsService::CallbackService>(
        ctx, "trainyard.metrics.v1.MetricsService");
  };
  return server::RunService(argc, argv, definition);
}
