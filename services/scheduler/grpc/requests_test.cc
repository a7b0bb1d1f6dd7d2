// Copyright 2026 Trainyard authors.
//
// The scheduler's list filters (scheduler.proto), bound by common/search's
// filter binder: which fields, operators and values each list accepts, and
// which items the compiled predicate keeps.
#include "services/scheduler/grpc/requests.h"

#include "absl/time/time.h"
#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "common/time/proto_time.h"
#include "gtest/gtest.h"

namespace trainyard::scheduler {
namespace {

v1::QueueEntry Entry(std::string user, common::v1::Preset preset, bool promoted,
                     v1::Confidence confidence) {
  v1::QueueEntry e;
  e.mutable_created_by()->set_user_id(std::move(user));
  e.mutable_config()->set_preset(preset);
  e.set_promoted(promoted);
  e.set_confidence(confidence);
  return e;
}

absl::StatusOr<ListQuery<v1::QueueEntry>> Queue(const std::string& filter) {
  v1::ListQueueEntriesRequest r;
  r.set_filter(filter);
  return ToQueueQuery(r);
}

TEST(SchedulerFilterTest, R_Q_01_QueueFilterMatchesEachField) {
  const v1::QueueEntry ana =
      Entry("ana", common::v1::PRESET_BALANCED, true, v1::CONFIDENCE_HIGH);
  const v1::QueueEntry bob =
      Entry("bob", common::v1::PRESET_AGGRESSIVE, false, v1::CONFIDENCE_LOW);
  const v1::QueueEntry eve = Entry("eve", common::v1::PRESET_UNSPECIFIED, false,
                                   v1::CONFIDENCE_MEDIUM);
  auto kept = [&](const std::string& filter) {
    absl::StatusOr<ListQuery<v1::QueueEntry>> q = Queue(filter);
    EXPECT_OK(q.status()) << filter;
    std::string users;
    for (const v1::QueueEntry& e : {ana, bob, eve}) {
      if (q.ok() && (q->match == nullptr || q->match(e))) {
        users += e.created_by().user_id() + " ";
      }
    }
    return users;
  };
  EXPECT_EQ(kept(""), "ana bob eve ");
  EXPECT_EQ(kept("created_by = ana"), "ana ");
  EXPECT_EQ(kept("promoted = true"), "ana ");
  EXPECT_EQ(kept("(preset = BALANCED OR preset = PRESET_AGGRESSIVE)"),
            "ana bob ");
  EXPECT_EQ(kept("preset = UNSPECIFIED"), "eve ");
  EXPECT_EQ(kept("preset != BALANCED AND confidence != LOW"), "eve ");
}

TEST(SchedulerFilterTest, R_Q_01_QueueFilterRejectsWhatItDoesNotAccept) {
  for (const char* bad :
       {"preset = balanced", "pricing != SPOT", "promoted = yes",
        "(preset = BALANCED OR preset != CUSTOM)", "display_name = x"}) {
    absl::Status s = Queue(bad).status();
    EXPECT_EQ(ErrorReason(s), "INVALID_FILTER") << bad;
    ASSERT_EQ(FieldViolations(s).size(), 1u) << bad;
    EXPECT_EQ(FieldViolations(s)[0].field, "filter") << bad;
  }
}

TEST(SchedulerFilterTest, R_Q_02_SlotFilterMatchesJobState) {
  v1::ListActiveSlotsRequest r;
  r.set_filter("job_state = TRAINING AND gpu_type = GPU_TYPE_L40S");
  ASSERT_OK_AND_ASSIGN(SlotQuery q, ToSlotQuery(r));
  v1::Slot slot;
  slot.set_job_state(common::v1::JOB_STATE_TRAINING);
  slot.mutable_config()->set_gpu_type(common::v1::GPU_TYPE_L40S);
  EXPECT_TRUE(q.list.match(slot));
  slot.set_job_state(common::v1::JOB_STATE_PROVISIONING);
  EXPECT_FALSE(q.list.match(slot));
  r.set_filter("job_state != TRAINING");
  EXPECT_EQ(ErrorReason(ToSlotQuery(r).status()), "INVALID_FILTER");
}

TEST(SchedulerFilterTest, R_Q_05_PromotionFilterComparesTimes) {
  v1::ListPromotionsRequest r;
  r.set_filter(
      "create_time >= \"2026-11-29T03:00:00Z\" AND create_time < "
      "\"2026-11-29T04:00:00Z\" AND reason = CLIENT_DEADLINE");
  ASSERT_OK_AND_ASSIGN(PromotionQuery q, ToPromotionQuery(r));
  v1::Promotion p;
  p.set_reason(v1::PROMOTION_REASON_CLIENT_DEADLINE);
  *p.mutable_create_time() = ToProto(absl::FromUnixSeconds(1795921200));
  EXPECT_TRUE(q.list.match(p));  // 03:00:00
  *p.mutable_create_time() = ToProto(absl::FromUnixSeconds(1795924800));
  EXPECT_FALSE(q.list.match(p));  // 04:00:00
  // Every value of an OR group counts.
  r.set_filter(
      "(create_time = \"2100-01-01T00:00:00Z\" OR create_time = "
      "\"2026-11-29T04:00:00Z\")");
  ASSERT_OK_AND_ASSIGN(q, ToPromotionQuery(r));
  EXPECT_TRUE(q.list.match(p));
  for (const char* bad :
       {"state = approved", "create_time != \"2026-11-29T04:00:00Z\"",
        "(state = PENDING OR state != APPROVED)"}) {
    r.set_filter(bad);
    EXPECT_EQ(ErrorReason(ToPromotionQuery(r).status()), "INVALID_FILTER")
        << bad;
  }
}

}  // namespace
}  // namespace trainyard::scheduler
