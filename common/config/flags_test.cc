// Copyright 2026 Trainyard authors.
#include "common/config/flags.h"

#include <cstdio>
#include <fstream>

#include "common/testing/status_matchers.h"
#include "gtest/gtest.h"

namespace trainyard::config {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;

struct Config {
  std::string address = "127.0.0.1:7101";
  int64_t slots = 3;
  double scale = 1.0;
  bool sync = false;
  absl::Duration drain = absl::Seconds(10);
};

class FlagSetTest : public ::testing::Test {
 protected:
  FlagSetTest() : flags_("svc") {
    flags_.AddString("address", "listen address", &config_.address);
    flags_.AddInt("slots", "concurrency", &config_.slots).Range(1, 64);
    flags_.AddDouble("time_scale", "scale", &config_.scale).Range(0.001, 1e6);
    flags_.AddBool("sync_writes", "fsync", &config_.sync);
    flags_.AddDuration("drain_timeout", "drain", &config_.drain);
  }
  FlagSet flags_;
  Config config_;
};

TEST_F(FlagSetTest, DefaultsStayWhenUnset) {
  ASSERT_OK(flags_.ParseArgs({}));
  EXPECT_EQ(config_.address, "127.0.0.1:7101");
  EXPECT_EQ(config_.slots, 3);
}

TEST_F(FlagSetTest, ParsesEveryTypeAndBothSyntaxes) {
  ASSERT_OK(flags_.ParseArgs({"--address=0.0.0.0:1", "--slots", "5",
                              "--time_scale=60", "--sync_writes",
                              "--drain_timeout=1m30s"}));
  EXPECT_EQ(config_.address, "0.0.0.0:1");
  EXPECT_EQ(config_.slots, 5);
  EXPECT_EQ(config_.scale, 60.0);
  EXPECT_TRUE(config_.sync);
  EXPECT_EQ(config_.drain, absl::Seconds(90));
  ASSERT_OK(flags_.ParseArgs({"--nosync_writes"}));
  EXPECT_FALSE(config_.sync);
}

TEST_F(FlagSetTest, BadValueNamesTheSetting) {
  EXPECT_THAT(flags_.ParseArgs({"--slots=abc"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--slots: \"abc\" is not an integer"));
  EXPECT_THAT(flags_.ParseArgs({"--drain_timeout=soon"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--drain_timeout:")));
  EXPECT_THAT(flags_.ParseArgs({"--sync_writes=maybe"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--sync_writes:")));
}

TEST_F(FlagSetTest, OutOfRangeNamesTheSettingAndRange) {
  EXPECT_THAT(flags_.ParseArgs({"--slots=0"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--slots: 0 is out of range [1, 64]")));
}

TEST_F(FlagSetTest, UnknownSettingAndPositionalAreErrors) {
  EXPECT_THAT(flags_.ParseArgs({"--colour=blue"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--colour: unknown setting")));
  EXPECT_THAT(flags_.ParseArgs({"stray"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stray")));
  EXPECT_THAT(flags_.ParseArgs({"--address"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--address: needs a value")));
}

TEST_F(FlagSetTest, ConfigFileIsReadAndCommandLineWins) {
  std::string path = ::testing::TempDir() + "/flags_test.conf";
  {
    std::ofstream out(path);
    out << "# comment\nslots = 7\naddress = 10.0.0.1:9\n";
  }
  ASSERT_OK(flags_.ParseArgs({"--config=" + path, "--slots=9"}));
  EXPECT_EQ(config_.slots, 9);
  EXPECT_EQ(config_.address, "10.0.0.1:9");
  std::remove(path.c_str());
}

TEST_F(FlagSetTest, BadConfigFileLineNamesFileLineAndSetting) {
  std::string path = ::testing::TempDir() + "/flags_bad.conf";
  {
    std::ofstream out(path);
    out << "\nslots = many\n";
  }
  EXPECT_THAT(flags_.ParseArgs({"--config=" + path}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--slots: \"many\" is not an integer (" +
                                 path + ":2)")));
  EXPECT_THAT(flags_.ParseArgs({"--config=/nonexistent/x.conf"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--config: cannot read")));
  std::remove(path.c_str());
}

TEST_F(FlagSetTest, HelpIsRequestedAndUsageListsSettings) {
  ASSERT_OK(flags_.ParseArgs({"--help"}));
  EXPECT_TRUE(flags_.help_requested());
  EXPECT_THAT(flags_.Usage(), HasSubstr("--slots (default: \"3\")"));
}

}  // namespace
}  // namespace trainyard::config
