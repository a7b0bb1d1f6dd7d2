// Copyright 2026 Trainyard authors.
#include "services/scheduler/domain/promotion_rules.h"

#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "common/time/proto_time.h"
#include "gtest/gtest.h"

namespace trainyard::scheduler {
namespace {

using ::trainyard::testing::StatusIs;

const absl::Time kT0 = absl::FromUnixSeconds(1764385200);

// `n` code points, each "é" (two bytes), so bytes != characters.
std::string Text(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += "\xC3\xA9";
  return s;
}

v1::Promotion Pending() {
  v1::Promotion p;
  p.set_promotion_id("p-1");
  p.mutable_requester()->set_user_id("mia");
  p.set_state(v1::PROMOTION_STATE_PENDING);
  *p.mutable_expire_time() = ToProto(kT0 + absl::Hours(24));
  p.set_etag(PromotionEtag(p));
  return p;
}

TEST(PromotionRules, R_Q_05_JustificationBoundsInCodePoints) {
  auto reason = v1::PROMOTION_REASON_CLIENT_DEADLINE;
  EXPECT_THAT(ValidatePromotionRequest(reason, Text(99)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(ValidatePromotionRequest(reason, Text(100)));
  EXPECT_OK(ValidatePromotionRequest(reason, Text(500)));
  absl::Status over = ValidatePromotionRequest(reason, Text(501));
  EXPECT_THAT(over, StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_EQ(FieldViolations(over).size(), 1u);
  EXPECT_EQ(FieldViolations(over)[0].field, "justification");
  EXPECT_THAT(ValidatePromotionRequest(reason, "\xff" + Text(100)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  absl::Status no_reason =
      ValidatePromotionRequest(v1::PROMOTION_REASON_UNSPECIFIED, Text(100));
  EXPECT_EQ(FieldViolations(no_reason)[0].field, "reason");
}

TEST(PromotionRules, R_Q_05_SelfApprovalDeniedOthersDecideOnce) {
  v1::Promotion p = Pending();
  absl::Status self =
      CheckDecision(p, {"mia", auth::Role::kManager}, p.etag(), "");
  EXPECT_THAT(self, StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(ErrorReason(self), "SELF_APPROVAL");
  EXPECT_THAT(CheckDecision(p, {"svc", auth::Role::kService}, p.etag(), ""),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(CheckDecision(p, {"ana", auth::Role::kManager}, "\"old\"", ""),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_OK(CheckDecision(p, {"ana", auth::Role::kManager}, p.etag(), "ok"));
  EXPECT_OK(CheckDecision(p, {"root", auth::Role::kAdmin}, p.etag(), ""));
  Decide(p, v1::PROMOTION_STATE_APPROVED, {"ana", auth::Role::kManager}, "ok",
         kT0 + absl::Hours(1));
  EXPECT_EQ(p.decider().user_id(), "ana");
  absl::Status second =
      CheckDecision(p, {"root", auth::Role::kAdmin}, p.etag(), "");
  EXPECT_THAT(second, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(second), "PROMOTION_NOT_PENDING");
}

TEST(PromotionRules, R_Q_05_PendingExpiresAfter24Hours) {
  v1::Promotion p = Pending();
  EXPECT_FALSE(ExpireIfDue(p, kT0 + absl::Hours(24) - absl::Seconds(1)));
  EXPECT_EQ(p.state(), v1::PROMOTION_STATE_PENDING);
  EXPECT_TRUE(ExpireIfDue(p, kT0 + absl::Hours(24)));
  EXPECT_EQ(p.state(), v1::PROMOTION_STATE_EXPIRED);
  EXPECT_THAT(CheckDecision(p, {"ana", auth::Role::kManager}, p.etag(), ""),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST(PromotionRules, R_Q_05_ImpactCountsTheJobsMovedDown) {
  // Queue a, b, c, d; d (position 4) goes to 1: a, b, c each start 30 min
  // later.
  std::vector<std::string> ids = {"a", "b", "c", "d"};
  std::vector<absl::Time> before = {kT0, kT0 + absl::Hours(1),
                                    kT0 + absl::Hours(2), kT0 + absl::Hours(3)};
  std::vector<absl::Time> after = {kT0 + absl::Minutes(30),
                                   kT0 + absl::Minutes(90),
                                   kT0 + absl::Minutes(150), kT0};
  v1::PromotionImpact impact = ImpactOf(4, 1, ids, before, after);
  EXPECT_EQ(impact.delayed_job_count(), 3);
  EXPECT_EQ(FromProto(impact.average_delay()), absl::Minutes(30));
  EXPECT_EQ(impact.summary(), "Will delay 3 other jobs by ~30 min each");
  EXPECT_EQ(impact.delayed_job_ids_size(), 3);
  EXPECT_EQ(ImpactOf(1, 1, ids, before, before).delayed_job_count(), 0);
}

}  // namespace
}  // namespace trainyard::scheduler
