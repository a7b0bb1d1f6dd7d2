// Copyright 2026 Trainyard authors.
#include "common/process/process_flags.h"

#include "common/status/status_macros.h"
#include "common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::process {
namespace {

using ::testing::HasSubstr;
using ::trainyard::testing::StatusIs;

absl::StatusOr<ProcessFlags> Parse(std::vector<const char*> args) {
  ProcessFlags f;
  config::FlagSet flags("test");
  AddProcessFlags(flags, &f);
  args.insert(args.begin(), "test");
  RETURN_IF_ERROR(flags.Parse(static_cast<int>(args.size()), args.data()));
  RETURN_IF_ERROR(ValidateProcessFlags(f));
  return f;
}

TEST(ProcessFlags, DefaultsAreTextInfoRealTime) {
  ASSERT_OK_AND_ASSIGN(ProcessFlags f, Parse({}));
  EXPECT_EQ(f.log_format, "text");
  EXPECT_EQ(f.log_level, "info");
  EXPECT_EQ(f.time_scale, 1.0);
  const absl::Time start = absl::FromUnixSeconds(1764385200);
  EXPECT_EQ(SuiteTimeOrigin(f, start), start);
  RealClock wall;
  EXPECT_NE(MakeLogger(f, wall), nullptr);
}

TEST(ProcessFlags, SuiteClockFromScaleAndOrigin) {
  ASSERT_OK_AND_ASSIGN(
      ProcessFlags f,
      Parse({"--time_scale=120", "--time_origin=2025-11-29T03:00:00Z",
             "--log_format=json", "--log_level=debug"}));
  EXPECT_EQ(f.time_scale, 120);
  EXPECT_EQ(SuiteTimeOrigin(f, absl::InfinitePast()),
            absl::FromUnixSeconds(1764385200));
}

TEST(ProcessFlags, BadValuesNameTheFlag) {
  EXPECT_THAT(
      Parse({"--log_format=xml"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--log_format")));
  EXPECT_THAT(
      Parse({"--log_level=loud"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--log_level")));
  EXPECT_THAT(
      Parse({"--time_origin=soon"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--time_origin")));
  EXPECT_THAT(
      Parse({"--time_scale=0"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("time_scale")));
}

}  // namespace
}  // namespace trainyard::process
