// Copyright 2026 Trainyard authors.
//
// MetricsProgressSource against real metrics-ingest processes (the built
// trainyard-metrics on ephemeral ports and temp data dirs, one or two
// shards, fed through IngestEvents), and against an address nobody listens
// on.
#include "services/cost/grpc/metrics_progress.h"

#include "common/testing/metrics_shards.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_server.h"
#include "gtest/gtest.h"

namespace trainyard::cost {
namespace {

using trainyard::testing::MetricsShards;
using trainyard::testing::TestServer;

TEST(MetricsProgress, R_DASH_06_ReadsProgressFromMetrics) {
  trainyard::testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetricsShards> metrics,
                       MetricsShards::Start(dir, 1));
  ASSERT_OK(metrics->ReportStep("job-1", 1, 100));
  ASSERT_OK(metrics->ReportStep("job-1", 2, 110));
  auto channel = metrics->Channels().at(0);

  MetricsProgressSource source(
      channel, TestServer::TokenFor(auth::Role::kService), absl::Seconds(5));
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
  trainyard::testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetricsShards> shards,
                       MetricsShards::Start(dir, 2));
  ASSERT_OK(shards->ReportStep("job-1", 1, 100));
  ASSERT_OK(shards->ReportStep("job-2", 1, 200));
  MetricsProgressSource source(shards->Channels(),
                               TestServer::TokenFor(auth::Role::kService),
                               absl::Seconds(5));
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
