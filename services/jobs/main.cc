// Copyright 2026 Trainyard authors.
//
// trainyard-jobs: wiring only (jobs_module.h assembles the service).
#include "common/server/run_service.h"
#include "services/jobs/jobs_module.h"

int main(int argc, char** argv) {
  using namespace trainyard;
  jobs::JobsConfig config;
  server::ServiceDefinition definition =
      server::DefaultDefinition("jobs", 7101, 7111);
  definition.column_families = jobs::JobsColumnFamilies();
  definition.add_flags = [&config](config::FlagSet& flags) {
    jobs::AddJobsFlags(flags, &config);
  };
  definition.build = [&config](server::ServiceContext& ctx) {
    return jobs::BuildJobs(ctx, config);
  };
  return server::RunService(argc, argv, definition);
}
