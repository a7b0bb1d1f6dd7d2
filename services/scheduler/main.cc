// Copyright 2026 Trainyard authors.
//
// trainyard-scheduler: wiring only (common/server/run_service.h does the rest).
#include "common/server/run_service.h"
#include "trainyard/scheduler/v1/scheduler.grpc.pb.h"

int main(int argc, char** argv) {
  using namespace trainyard;
  server::ServiceDefinition definition =
      server::DefaultDefinition("scheduler", 7102, 7112);
  definition.build = [](server::ServiceContext& ctx) {
    return server::ServeUnimplemented<
        scheduler::v1::SchedulerService::CallbackService>(
        ctx, "trainyard.scheduler.v1.SchedulerService");
  };
  return server::RunService(argc, argv, definition);
}
