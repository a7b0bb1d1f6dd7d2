// Copyright 2026 Trainyard authors.
//
// trainyard-jobs: wiring only (common/server/run_service.h does the rest).
#include "common/server/run_service.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"

int main(int argc, char** argv) {
  using namespace trainyard;
  server::ServiceDefinition definition =
      server::DefaultDefinition("jobs", 7101, 7111);
  definition.build = [](server::ServiceContext& ctx) {
    return server::ServeUnimplemented<jobs::v1::JobService::CallbackService>(
        ctx, "trainyard.jobs.v1.JobService");
  };
  return server::RunService(argc, argv, definition);
}
