// Copyright 2026 Trainyard authors.
#include "services/jobs/grpc/access.h"

#include <google/protobuf/descriptor.h>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "trainyard/jobs/v1/jobs.grpc.pb.h"

namespace trainyard::jobs {
namespace {

TEST(JobServiceAccessTest, TableNamesEveryRpcOfTheService) {
  // Through a message of the file, so the descriptor is linked in.
  const auto* service =
      v1::CreateJobRequest::descriptor()->file()->FindServiceByName(
          "JobService");
  ASSERT_NE(service, nullptr);
  EXPECT_OK(JobServiceAccess().CoversService(*service));
}

}  // namespace
}  // namespace trainyard::jobs
