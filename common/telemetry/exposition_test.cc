// Copyright 2026 Trainyard authors.
#include "common/telemetry/exposition.h"

#include "common/telemetry/grpc_metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace trainyard::telemetry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(GrpcServerMetricsTest, KnownMethodsGetTheirLabelsOthersAreUnknown) {
  auto registry = std::make_shared<prometheus::Registry>();
  GrpcServerMetrics metrics(*registry);
  metrics.AddKnownMethod("/t.v1.S/Get");
  metrics.Started("unary", "/t.v1.S/Get");
  metrics.Handled("unary", "/t.v1.S/Get", "OK", 0.001);
  metrics.Started("unary", "/evil/Chosen");
  metrics.Handled("unary", "/evil/Chosen", "UNIMPLEMENTED", 0.001);

  Exposition exposition;
  exposition.Add(registry);
  std::string text = exposition.Render();
  EXPECT_THAT(text, HasSubstr("grpc_server_handled_total{grpc_code=\"OK\","
                              "grpc_method=\"Get\",grpc_service=\"t.v1.S\","
                              "grpc_type=\"unary\"} 1"));
  EXPECT_THAT(text, HasSubstr("grpc_method=\"unknown\""));
  EXPECT_THAT(text, Not(HasSubstr("Chosen")));
  EXPECT_THAT(text, HasSubstr("# HELP grpc_server_handling_seconds"));
}

}  // namespace
}  // namespace trainyard::telemetry
