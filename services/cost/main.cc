// Copyright 2026 Trainyard authors.
//
// trainyard-cost: wiring only (common/server/run_service.h does the rest).
#include "common/server/run_service.h"
#include "trainyard/cost/v1/cost.grpc.pb.h"

int main(int argc, char** argv) {
  using namespace trainyard;
  server::ServiceDefinition definition =
      server::DefaultDefinition("cost", 7104, 7114);
  definition.build = [](server::ServiceContext& ctx) {
    return server::ServeUnimplemented<cost::v1::CostService::CallbackService>(
        ctx, "trainyard.cost.v1.CostService");
  };
  return server::RunService(argc, argv, definition);
}
