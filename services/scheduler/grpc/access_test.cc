// Copyright 2026 Trainyard authors.
#include "services/scheduler/grpc/access.h"

#include <google/protobuf/descriptor.h>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "trainyard/scheduler/v1/scheduler.grpc.pb.h"

namespace trainyard::scheduler {
namespace {

TEST(SchedulerServiceAccessTest, TableNamesEveryRpcOfTheService) {
  // Through a message of the file, so the descriptor is linked in.
  const auto* service =
      v1::EnqueueRequest::descriptor()->file()->FindServiceByName(
          "SchedulerService");
  ASSERT_NE(service, nullptr);
  EXPECT_OK(SchedulerServiceAccess().CoversService(*service));
}

}  // namespace
}  // namespace trainyard::scheduler
