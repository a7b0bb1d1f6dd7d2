// Copyright 2026 Trainyard authors.
#include "common/time/proto_time.h"

#include "gtest/gtest.h"

namespace trainyard {
namespace {

TEST(ProtoTimeTest, RoundTripsWithNanos) {
  absl::Time t = absl::FromUnixNanos(1764385200123456789);
  EXPECT_EQ(ToProto(t).seconds(), 1764385200);
  EXPECT_EQ(ToProto(t).nanos(), 123456789);
  EXPECT_EQ(FromProto(ToProto(t)), t);
  absl::Duration d = absl::Seconds(3) + absl::Nanoseconds(5);
  EXPECT_EQ(FromProto(ToProto(d)), d);
  EXPECT_EQ(FromProto(ToProto(-d)), -d);
}

}  // namespace
}  // namespace trainyard
