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

// Two metrics shards (--shard=0/2 and 1/2; "job-1" and "job-5" are shard
// 0's, "job-2" and "job-3" shard 1's): each read goes to its job's shard,
// none is refused, and an unknown job fails only its own shard's batch.
TEST(MetricsProgress, ReadsEachJobFromItsShard) {
  metrics::Harness zero("", [](metrics::MetricsConfig& c) {
    c.shard = {.index = 0, .count = 2};
  });
  metrics::Harness one("", [](metrics::MetricsConfig& c) {
    c.shard = {.index = 1, .count = 2};
  });
  ASSERT_EQ(zero.Post("job-1", "e1", zero.MetricsBody(1, 100)).status, 200);
  ASSERT_EQ(one.Post("job-2", "e1", one.MetricsBody(1, 200)).status, 200);
  MetricsProgressSource source(
      shard::ShardChannels({zero.server_.Channel(), one.server_.Channel()}),
      testing::TestServer::TokenFor(auth::Role::kService), absl::Seconds(5));
  absl::StatusOr<ProgressView> p = source.Progress("job-2");
  ASSERT_OK(p.status());
  EXPECT_EQ(p->step, 200);
  std::vector<absl::StatusOr<ProgressView>> many =
      source.ProgressMany({"job-2", "job-1"});
  ASSERT_EQ(many.size(), 2u);
  ASSERT_OK(many[0].status());
  EXPECT_EQ(many[0]->step, 200);
  ASSERT_OK(many[1].status());
  EXPECT_EQ(many[1]->step, 100);
  // job-3 is unknown to shard 1: job-2 falls back with it, job-1 does not.
  many = source.ProgressMany({"job-1", "job-2", "job-3"});
  ASSERT_OK(many[0].status());
  EXPECT_EQ(many[1].status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(many[2].status().code(), absl::StatusCode::kNotFound);
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
