// Copyright 2026 Trainyard authors.
//
// GrpcProgressSource against real metrics-ingest shards (the built
// trainyard-metrics as processes, fed through IngestEvents): each job's
// progress is read from its own shard (common/shard: "job-1" is shard 0's of
// 2, "job-2" shard 1's), and an unreachable shard skips only its own jobs.
#include "services/scheduler/app/grpc_progress_source.h"

#include "common/testing/metrics_shards.h"
#include "common/testing/status_matchers.h"
#include "common/testing/test_server.h"
#include "gtest/gtest.h"

namespace trainyard::scheduler {
namespace {

using trainyard::testing::MetricsShards;
using trainyard::testing::TestServer;

TEST(GrpcProgressSource, ReadsEachJobFromItsShard) {
  trainyard::testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetricsShards> shards,
                       MetricsShards::Start(dir, 2));
  ASSERT_OK(shards->ReportStep("job-1", 1, 100));
  ASSERT_OK(shards->ReportStep("job-2", 1, 200));
  RealClock wall;
  GrpcProgressSource source(shards->Channels(),
                            TestServer::TokenFor(auth::Role::kService), wall);
  absl::flat_hash_map<std::string, common::v1::Progress> got =
      source.Fetch({"job-1", "job-2"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got["job-1"].step(), 100);
  EXPECT_EQ(got["job-2"].step(), 200);
}

TEST(GrpcProgressSource, UnreachableShardSkipsOnlyItsJobs) {
  trainyard::testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<MetricsShards> shards,
                       MetricsShards::Start(dir, 2));
  ASSERT_OK(shards->ReportStep("job-1", 1, 100));
  RealClock wall;
  // Shard 1 on port 1 of loopback: nothing listens there.
  GrpcProgressSource source(
      shard::ShardChannels(
          {shards->Channels().at(0),
           grpc::CreateChannel("127.0.0.1:1",
                               grpc::InsecureChannelCredentials())}),
      TestServer::TokenFor(auth::Role::kService), wall,
      absl::Milliseconds(300));
  absl::flat_hash_map<std::string, common::v1::Progress> got =
      source.Fetch({"job-2", "job-3", "job-1"});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got["job-1"].step(), 100);
}

}  // namespace
}  // namespace trainyard::scheduler
