// Copyright 2026 Trainyard authors.
//
// GrpcProgressSource against real metrics-ingest shards in process (real
// gRPC, real RocksDB): each job's progress is read from its own shard
// (common/shard: "job-1" is shard 0's of 2, "job-2" shard 1's), and an
// unreachable shard skips only its own jobs.
#include "services/scheduler/app/grpc_progress_source.h"

#include "gtest/gtest.h"
#include "services/metrics/testing/metrics_harness.h"

namespace trainyard::scheduler {
namespace {

std::function<void(metrics::MetricsConfig&)> Shard(int index) {
  return [index](metrics::MetricsConfig& c) {
    c.shard = {.index = index, .count = 2};
  };
}

TEST(GrpcProgressSource, ReadsEachJobFromItsShard) {
  metrics::Harness zero("", Shard(0));
  metrics::Harness one("", Shard(1));
  ASSERT_EQ(zero.Post("job-1", "e1", zero.MetricsBody(1, 100)).status, 200);
  ASSERT_EQ(one.Post("job-2", "e1", one.MetricsBody(1, 200)).status, 200);
  RealClock wall;
  GrpcProgressSource source(
      shard::ShardChannels({zero.server_.Channel(), one.server_.Channel()}),
      testing::TestServer::TokenFor(auth::Role::kService), wall);
  absl::flat_hash_map<std::string, common::v1::Progress> got =
      source.Fetch({"job-1", "job-2"});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got["job-1"].step(), 100);
  EXPECT_EQ(got["job-2"].step(), 200);
}

TEST(GrpcProgressSource, UnreachableShardSkipsOnlyItsJobs) {
  metrics::Harness zero("", Shard(0));
  ASSERT_EQ(zero.Post("job-1", "e1", zero.MetricsBody(1, 100)).status, 200);
  RealClock wall;
  // Shard 1 on port 1 of loopback: nothing listens there.
  GrpcProgressSource source(
      shard::ShardChannels(
          {zero.server_.Channel(),
           grpc::CreateChannel("127.0.0.1:1",
                               grpc::InsecureChannelCredentials())}),
      testing::TestServer::TokenFor(auth::Role::kService), wall,
      absl::Milliseconds(300));
  absl::flat_hash_map<std::string, common::v1::Progress> got =
      source.Fetch({"job-2", "job-3", "job-1"});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got["job-1"].step(), 100);
}

}  // namespace
}  // namespace trainyard::scheduler
