// Copyright 2026 Trainyard authors.
#include "services/scheduler/domain/queue_rules.h"

#include <set>

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "common/time/proto_time.h"
#include "gtest/gtest.h"

namespace trainyard::scheduler {
namespace {

using ::trainyard::testing::StatusIs;

const absl::Time kT0 = absl::FromUnixSeconds(1764385200);

TEST(QueueRules, R_Q_01_FifoByCreationTimePromotedFirstInPromotionOrder) {
  std::set<QueueKey> queue;
  queue.insert({false, {}, kT0 + absl::Minutes(2), "b"});
  queue.insert({false, {}, kT0 + absl::Minutes(1), "a"});
  // A resumed job re-enters at its original (older) creation time.
  queue.insert({false, {}, kT0, "resumed"});
  queue.insert({true, kT0 + absl::Hours(2), kT0 + absl::Minutes(9), "p2"});
  queue.insert({true, kT0 + absl::Hours(1), kT0 + absl::Minutes(8), "p1"});
  std::vector<std::string> order;
  for (const auto& k : queue) order.push_back(k.job_id);
  EXPECT_EQ(order, (std::vector<std::string>{"p1", "p2", "resumed", "a", "b"}));
}

TEST(QueueRules, R_Q_06_DepthLevels) {
  EXPECT_EQ(DepthLevelOf(0, 3, 10), v1::DEPTH_LEVEL_LOW);
  EXPECT_EQ(DepthLevelOf(3, 3, 10), v1::DEPTH_LEVEL_LOW);
  EXPECT_EQ(DepthLevelOf(4, 3, 10), v1::DEPTH_LEVEL_MODERATE);
  EXPECT_EQ(DepthLevelOf(10, 3, 10), v1::DEPTH_LEVEL_MODERATE);
  EXPECT_EQ(DepthLevelOf(11, 3, 10), v1::DEPTH_LEVEL_HIGH);
  EXPECT_EQ(LongQueueWarning(10, 10), "");
  EXPECT_NE(LongQueueWarning(11, 10), "");
}

TEST(QueueRules, R_Q_04_SettingsBoundsNameTheField) {
  v1::QueueSettings current = DefaultSettings();
  EXPECT_EQ(current.concurrency_limit(), 3);
  v1::QueueSettings update;
  update.set_concurrency_limit(0);
  auto bad = ApplySettingsUpdate(current, update, {"concurrency_limit"});
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_EQ(FieldViolations(bad.status()).size(), 1u);
  EXPECT_EQ(FieldViolations(bad.status())[0].field,
            "settings.concurrency_limit");
  update.set_concurrency_limit(101);
  EXPECT_THAT(ApplySettingsUpdate(current, update, {"concurrency_limit"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  update.set_concurrency_limit(5);
  auto ok = ApplySettingsUpdate(current, update, {"concurrency_limit"});
  ASSERT_OK(ok.status());
  EXPECT_EQ(ok->concurrency_limit(), 5);
  EXPECT_EQ(ok->long_queue_threshold(), 10);  // untouched
  EXPECT_THAT(ApplySettingsUpdate(current, update, {"nope"}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  // Empty mask: all four must be valid.
  EXPECT_THAT(ApplySettingsUpdate(current, update, {}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace trainyard::scheduler
