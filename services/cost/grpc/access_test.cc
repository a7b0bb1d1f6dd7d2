// Copyright 2026 Trainyard authors.
#include "services/cost/grpc/access.h"

#include <google/protobuf/descriptor.h>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "trainyard/cost/v1/cost.grpc.pb.h"

namespace trainyard::cost {
namespace {

TEST(CostServiceAccessTest, TableNamesEveryRpcOfTheService) {
  // Through a message of the file, so the descriptor is linked in.
  const auto* service =
      v1::GetRateCardRequest::descriptor()->file()->FindServiceByName(
          "CostService");
  ASSERT_NE(service, nullptr);
  EXPECT_OK(CostServiceAccess().CoversService(*service));
}

}  // namespace
}  // namespace trainyard::cost
