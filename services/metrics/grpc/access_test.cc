// Copyright 2026 Trainyard authors.
#include "services/metrics/grpc/access.h"

#include <google/protobuf/descriptor.h>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "trainyard/metrics/v1/metrics.grpc.pb.h"

namespace trainyard::metrics {
namespace {

TEST(MetricsServiceAccessTest, TableNamesEveryRpcOfTheService) {
  // Through a message of the file, so the descriptor is linked in.
  const auto* service =
      v1::IngestEventsRequest::descriptor()->file()->FindServiceByName(
          "MetricsService");
  ASSERT_NE(service, nullptr);
  EXPECT_OK(MetricsServiceAccess().CoversService(*service));
}

}  // namespace
}  // namespace trainyard::metrics
