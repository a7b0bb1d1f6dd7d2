// Copyright 2026 Trainyard authors.
//
// The shard function against vectors computed outside our code
// (`printf '%s' job-1 | sha256sum`: the first 16 hex digits, mod N), the
// shard lists of the flags, a shard's identity and its WRONG_SHARD error.
#include "common/shard/shard.h"

#include "common/shard/shard_channels.h"
#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::shard {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;

struct Vector {
  const char* job_id;
  uint64_t hash;  // first 8 bytes of SHA-256, big-endian
  int of2, of3, of8;
};

// sha256sum of each id, first 16 hex digits.
constexpr Vector kVectors[] = {
    {"job-1", 0x026ab639c21df8aaULL, 0, 1, 2},
    {"job-2", 0x0e753487879fb8a9ULL, 1, 2, 1},
    {"job-7f3a", 0x49af0a19b6832cfcULL, 0, 1, 4},
    {"j_01HZX3", 0x7b6e305e65db4a2aULL, 0, 1, 2},
    {"", 0xe3b0c44298fc1c14ULL, 0, 1, 4},
};

TEST(Shard, HashAndShardMatchFixedVectors) {
  for (const Vector& v : kVectors) {
    SCOPED_TRACE(v.job_id);
    EXPECT_EQ(JobHash(v.job_id), v.hash);
    EXPECT_EQ(ShardOf(v.job_id, 1), 0);
    EXPECT_EQ(ShardOf(v.job_id, 2), v.of2);
    EXPECT_EQ(ShardOf(v.job_id, 3), v.of3);
    EXPECT_EQ(ShardOf(v.job_id, 8), v.of8);
  }
}

TEST(Shard, ParseShardListKeepsOrderAndNamesTheFlag) {
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> one,
                       ParseShardList("metrics_address", "127.0.0.1:7103"));
  EXPECT_THAT(one, ElementsAre("127.0.0.1:7103"));
  ASSERT_OK_AND_ASSIGN(
      std::vector<std::string> two,
      ParseShardList("metrics_address", "m-0:7103, m-1:7103 "));
  EXPECT_THAT(two, ElementsAre("m-0:7103", "m-1:7103"));
  for (const char* bad : {"", "a:1,", ",a:1", "a:1,,b:1", " "}) {
    SCOPED_TRACE(bad);
    absl::Status s = ParseShardList("metrics_address", bad).status();
    EXPECT_THAT(
        s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is empty")));
    ASSERT_EQ(FieldViolations(s).size(), 1u);
    EXPECT_EQ(FieldViolations(s)[0].field, "metrics_address");
  }
}

TEST(Shard, SplitByShardGroupsPositions) {
  EXPECT_THAT(SplitByShard({"job-1", "job-2", "job-7f3a"}, 2),
              ElementsAre(ElementsAre(0u, 2u), ElementsAre(1u)));
  EXPECT_THAT(SplitByShard({"job-1", "job-2"}, 1),
              ElementsAre(ElementsAre(0u, 1u)));
}

TEST(Shard, ParseShardIdentity) {
  ASSERT_OK_AND_ASSIGN(ShardIdentity id, ParseShardIdentity("1/2"));
  EXPECT_EQ(id.index, 1);
  EXPECT_EQ(id.count, 2);
  EXPECT_EQ(id.ToString(), "1/2");
  ASSERT_OK_AND_ASSIGN(ShardIdentity single, ParseShardIdentity("0/1"));
  EXPECT_EQ(single.count, 1);
  for (const char* bad :
       {"", "1", "2/2", "-1/2", "0/0", "a/2", "0/2/3", "0/1025"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(ParseShardIdentity(bad),
                StatusIs(absl::StatusCode::kInvalidArgument));
  }
}

TEST(Shard, CheckRefusesAnotherShardsJobNamingItsShard) {
  const ShardIdentity zero{.index = 0, .count = 2};
  EXPECT_OK(zero.Check("job-1"));        // shard 0
  EXPECT_OK(zero.Check(""));             // left to the request's validation
  absl::Status s = zero.Check("job-2");  // shard 1
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition,
                          HasSubstr("belongs to metrics shard 1 of 2")));
  EXPECT_EQ(ErrorReason(s), kWrongShardReason);
  std::map<std::string, std::string> meta = ErrorMetadata(s);
  EXPECT_EQ(meta["job_id"], "job-2");
  EXPECT_EQ(meta["shard"], "1");
  EXPECT_EQ(meta["shard_count"], "2");
  EXPECT_EQ(meta["this_shard"], "0");
  // One shard owns every job.
  EXPECT_OK(ShardIdentity{}.Check("job-2"));
}

TEST(ShardChannels, ConnectMakesOneChannelPerShardAndRoutesByJob) {
  ASSERT_OK_AND_ASSIGN(
      ShardChannels channels,
      ShardChannels::Connect("metrics_address", "127.0.0.1:1,127.0.0.1:2"));
  ASSERT_EQ(channels.size(), 2);
  EXPECT_EQ(channels.For("job-1"), channels.at(0));
  EXPECT_EQ(channels.For("job-2"), channels.at(1));
  EXPECT_NE(channels.at(0), channels.at(1));
  EXPECT_THAT(ShardChannels::Connect("metrics_address", "a:1,").status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace trainyard::shard
