// Copyright 2026 Trainyard authors.
//
// MetricsProgressSource against a real metrics-ingest in process (real gRPC,
// real RocksDB), and against an address nobody listens on.
#include "services/cost/grpc/metrics_progress.h"

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"
#include "services/metrics/testing/metrics_harness.h"

namespace trainyard::cost {
namespace {

TEST(MetricsProgress, R_DASH_06_ReadsProgressFromMetrics) {
  metrics::Harness metrics;
  ASSERT_EQ(metrics.Post("job-1", "e1", metrics.MetricsBody(1, 100)).status,
            200);
  ASSERT_EQ(metrics.Post("job-1", "e2", metrics.MetricsBody(2, 110)).status,
            200);
  MetricsProgressSource source(
      metrics.server_.Channel(),
      testing::TestServer::TokenFor(auth::Role::kService), absl::Seconds(5));
  absl::StatusOr<ProgressView> p = source.Progress("job-1");
  ASSERT_OK(p.status());
  EXPECT_EQ(p->step, 110);
  EXPECT_EQ(p->total_steps, 2000);
  ASSERT_TRUE(p->seconds_per_step.has_value());
  EXPECT_NEAR(*p->seconds_per_step, 0.1, 1e-9);  // 10 steps in 1 s
  EXPECT_EQ(source.Progress("job-2").status().code(),
            absl::StatusCode::kNotFound);
  std::vector<absl::StatusOr<ProgressView>> many =
      source.ProgressMany({"job-1"});
  ASSERT_EQ(many.size(), 1u);
  ASSERT_OK(many[0].status());
  EXPECT_EQ(many[0]->step, 110);
  // One unknown job: every job of the batch falls back.
  many = source.ProgressMany({"job-1", "job-2"});
  EXPECT_FALSE(many[0].ok());
  EXPECT_FALSE(many[1].ok());
}

TEST(MetricsProgress, UnreachableMetricsIsAnErrorWithinTheDeadline) {
  // Port 1 on loopback: nothing listens there.
  MetricsProgressSource source(
      grpc::CreateChannel("127.0.0.1:1", grpc::InsecureChannelCredentials()),
      "", absl::Milliseconds(300));
  absl::StatusOr<ProgressView> p = source.Progress("job-1");
  EXPECT_TRUE(p.status().code() == absl::StatusCode::kUnavailable ||
              p.status().code() == absl::StatusCode::kDeadlineExceeded)
      << p.status();
}

}  // namespace
}  // namespace trainyard::cost
