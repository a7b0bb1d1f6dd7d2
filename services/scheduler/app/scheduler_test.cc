// Copyright 2026 Trainyard authors.
//
// The scheduler's state machine on a real RocksDB with a fake clock: queue
// order, slots, idempotency, restarts, promotions, reconcile, notifications.
#include "services/scheduler/app/scheduler.h"

#include "common/status/errors.h"
#include "gmock/gmock.h"
#include "services/scheduler/testing/scheduler_fixture.h"

namespace trainyard::scheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::trainyard::testing::StatusIs;

const auth::Principal kManager{"mia", auth::Role::kManager};
const auth::Principal kOtherManager{"max", auth::Role::kManager};

class SchedulerTest : public ::testing::Test, public testing::SchedulerFixture {
 protected:
  absl::Time T(int minutes) {
    return absl::FromUnixSeconds(1764300000) + absl::Minutes(minutes);
  }
  void EnqueueAll(std::vector<std::pair<std::string, int>> jobs) {
    for (const auto& [id, minute] : jobs) {
      ASSERT_OK(scheduler().Enqueue(Job(id, T(minute))).status());
    }
  }
  ReleaseCommand Release(const std::string& job, v1::SlotOutcome outcome,
                         std::string assignment_id = "") {
    ReleaseCommand r;
    r.job_id = job;
    r.attempt = 1;
    r.outcome = outcome;
    r.assignment_id = std::move(assignment_id);
    return r;
  }
  void SetLimit(int limit) {
    v1::QueueSettings update = scheduler().Settings();
    update.set_concurrency_limit(limit);
    ASSERT_OK(scheduler()
                  .UpdateSettings(update, {"concurrency_limit"},
                                  {"root", auth::Role::kAdmin})
                  .status());
  }
  std::string AssignmentOf(const std::string& job) {
    for (const auto& s : scheduler().Slots()) {
      if (s.job_id() == job) return s.assignment_id();
    }
    return "";
  }
  PromotionCommand Promote(const std::string& job) {
    PromotionCommand cmd;
    cmd.request_id = "promote-" + job;
    cmd.job_id = job;
    cmd.reason = v1::PROMOTION_REASON_CLIENT_DEADLINE;
    cmd.justification = std::string(120, 'x');
    return cmd;
  }
};

TEST_F(SchedulerTest, R_Q_01_AssignsOldestFirstUpToTheLimitThenFifo) {
  EnqueueAll({{"e", 5}, {"b", 2}, {"a", 1}, {"d", 4}, {"c", 3}});
  // e (created last) came first and got a slot at once; the next two free
  // slots went in arrival order, then the queue keeps creation order.
  EXPECT_THAT(Running(), ElementsAre("e", "b", "a"));
  EXPECT_THAT(Queued(), ElementsAre("c", "d"));
  auto c = scheduler().GetEntry("c");
  ASSERT_OK(c.status());
  EXPECT_EQ(c->position(), 1);
  EXPECT_EQ(c->jobs_ahead(), 0);
  EXPECT_THAT(scheduler().GetEntry("e"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(scheduler().Status().used_slots(), 3);
  EXPECT_EQ(scheduler().Status().available_slots(), 0);
}

TEST_F(SchedulerTest, R_Q_04_LoweringTheLimitNeverPreemptsRaisingStartsAtOnce) {
  EnqueueAll({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}, {"e", 5}});
  SetLimit(1);
  EXPECT_EQ(Running().size(), 3u);  // nobody stopped
  ASSERT_OK(scheduler().Release(Release("a", v1::SLOT_OUTCOME_COMPLETED)));
  EXPECT_THAT(Running(), ElementsAre("b", "c"));  // no new start
  ASSERT_OK(scheduler().Release(Release("b", v1::SLOT_OUTCOME_COMPLETED)));
  ASSERT_OK(scheduler().Release(Release("c", v1::SLOT_OUTCOME_COMPLETED)));
  EXPECT_THAT(Running(), ElementsAre("d"));
  SetLimit(3);
  EXPECT_THAT(Running(), ElementsAre("d", "e"));
}

TEST_F(SchedulerTest, R_Q_04_SettingsNeedTheCurrentEtag) {
  v1::QueueSettings stale = scheduler().Settings();
  SetLimit(4);
  stale.set_concurrency_limit(5);
  auto r = scheduler().UpdateSettings(stale, {"concurrency_limit"},
                                      {"root", auth::Role::kAdmin});
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(scheduler().Settings().concurrency_limit(), 4);
  EXPECT_EQ(scheduler().Settings().updated_by().user_id(), "root");
}

TEST_F(SchedulerTest, R_Q_01_EnqueueIsIdempotentByJobAttemptAndRequestId) {
  EnqueueAll({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}});
  auto again = scheduler().Enqueue(Job("d", T(4)));
  ASSERT_OK(again.status());
  EXPECT_EQ(again->position(), 1);
  EXPECT_THAT(Queued(), ElementsAre("d"));
  // Same attempt of a running job: its entry, no second entry.
  auto running = scheduler().Enqueue(Job("a", T(1)));
  ASSERT_OK(running.status());
  EXPECT_EQ(running->position(), 0);
  // A newer attempt while it holds a slot; an older attempt.
  absl::Status holds =
      scheduler().Enqueue(Job("a", T(1), absl::Hours(1), 2)).status();
  EXPECT_THAT(holds, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(ErrorReason(holds), "JOB_HOLDS_SLOT");
  ASSERT_OK(scheduler().Enqueue(Job("d", T(4), absl::Hours(1), 2)).status());
  absl::Status stale = scheduler().Enqueue(Job("d", T(4))).status();
  EXPECT_EQ(ErrorReason(stale), "STALE_ATTEMPT");
  // A request id reused for another job.
  EnqueueCommand reused = Job("x", T(9));
  reused.request_id = "a/1/enqueue";
  absl::Status s = scheduler().Enqueue(reused).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(FieldViolations(s)[0].field, "request_id");
}

TEST_F(SchedulerTest, R_Q_02_ReleaseOfAnOldAssignmentNeverFreesANewerOne) {
  EnqueueAll({{"a", 1}});
  const std::string first = AssignmentOf("a");
  ASSERT_OK(scheduler().Release(Release("a", v1::SLOT_OUTCOME_PAUSED, first)));
  // Resumed: attempt 2 gets a new assignment.
  ASSERT_OK(scheduler().Enqueue(Job("a", T(1), absl::Hours(1), 2)).status());
  const std::string second = AssignmentOf("a");
  ASSERT_NE(second, first);
  // The late duplicate of the first release (other request id) frees nothing.
  ReleaseCommand late = Release("a", v1::SLOT_OUTCOME_PAUSED, first);
  late.request_id = "late";
  EXPECT_THAT(scheduler().Release(late),
              ::trainyard::testing::IsOkAndHolds(false));
  EXPECT_THAT(Running(), ElementsAre("a"));
  // A job keeps its assignment through RECOVERING: a release naming a
  // higher attempt and the same assignment frees it.
  ReleaseCommand done = Release("a", v1::SLOT_OUTCOME_COMPLETED, second);
  done.attempt = 3;
  done.request_id = "a/3/release";
  EXPECT_THAT(scheduler().Release(done),
              ::trainyard::testing::IsOkAndHolds(true));
  EXPECT_THAT(Running(), IsEmpty());
  // Replayed by request id: the first answer.
  EXPECT_THAT(scheduler().Release(done),
              ::trainyard::testing::IsOkAndHolds(true));
  ReleaseCommand unknown = Release("nope", v1::SLOT_OUTCOME_COMPLETED);
  EXPECT_THAT(scheduler().Release(unknown),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(SchedulerTest, R_Q_01_RequeueReturnsTheJobToItsCreationTimePlace) {
  SetLimit(1);
  EnqueueAll({{"b", 2}, {"a", 1}, {"c", 3}});
  EXPECT_THAT(Running(), ElementsAre("b"));
  const std::string first = AssignmentOf("b");
  // Provisioning failed transiently: b is back at its place, which is
  // behind a (created earlier), and a gets the slot.
  ASSERT_OK(scheduler().Release(Release("b", v1::SLOT_OUTCOME_REQUEUE, first)));
  EXPECT_THAT(Running(), ElementsAre("a"));
  EXPECT_THAT(Queued(), ElementsAre("b", "c"));
  // The requeued start is not counted.
  auto analytics = scheduler().Analytics(clock_.Now() - absl::Hours(1),
                                         clock_.Now() + absl::Hours(1));
  EXPECT_EQ(analytics.jobs_started(), 1);
}

TEST_F(SchedulerTest, R_Q_01_RemoveIsIdempotentAndOnlyForQueuedJobs) {
  SetLimit(1);
  EnqueueAll({{"a", 1}, {"b", 2}});
  RemoveCommand remove{"", "b", 0, "CANCELLED"};
  EXPECT_THAT(scheduler().Remove(remove),
              ::trainyard::testing::IsOkAndHolds(true));
  EXPECT_THAT(scheduler().Remove(remove),
              ::trainyard::testing::IsOkAndHolds(false));
  RemoveCommand running{"", "a", 0, "CANCELLED"};
  EXPECT_THAT(scheduler().Remove(running),
              ::trainyard::testing::IsOkAndHolds(false));
  RemoveCommand unknown{"", "zz", 0, "CANCELLED"};
  EXPECT_THAT(scheduler().Remove(unknown),
              ::trainyard::testing::IsOkAndHolds(false));
  EXPECT_THAT(Running(), ElementsAre("a"));
}

TEST_F(SchedulerTest, R_X_02_RestartKeepsQueueSlotsAssignmentsAndSettings) {
  EnqueueAll({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}, {"e", 5}});
  SetLimit(2);
  ASSERT_OK(scheduler().Release(Release("a", v1::SLOT_OUTCOME_COMPLETED)));
  const auto running = Running();
  const auto queued = Queued();
  const auto assignments = scheduler().AssignmentsAfter(0, 100);
  const uint64_t last = scheduler().last_assignment_seq();
  Restart();
  EXPECT_EQ(Running(), running);
  EXPECT_EQ(Queued(), queued);
  EXPECT_EQ(scheduler().Settings().concurrency_limit(), 2);
  auto after = scheduler().AssignmentsAfter(0, 100);
  ASSERT_EQ(after.size(), assignments.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].seq, assignments[i].seq);
    EXPECT_EQ(after[i].assignment.assignment_id(),
              assignments[i].assignment.assignment_id());
  }
  EXPECT_EQ(scheduler().last_assignment_seq(), last);
  // Numbering continues: the next assignment is new.
  ASSERT_OK(scheduler().Release(Release("b", v1::SLOT_OUTCOME_COMPLETED)));
  EXPECT_EQ(scheduler().last_assignment_seq(), last + 1);
}

TEST_F(SchedulerTest, R_Q_05_PromotionNeedsAnotherManagerAndMovesTheJobUp) {
  SetLimit(1);
  EnqueueAll({{"run", 0}, {"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}});
  PromotionCommand preview = Promote("d");
  preview.validate_only = true;
  auto p0 = scheduler().RequestPromotion(preview, kManager);
  ASSERT_OK(p0.status());
  EXPECT_EQ(p0->impact().current_position(), 4);
  EXPECT_EQ(p0->impact().new_position(), 1);
  EXPECT_EQ(p0->impact().delayed_job_count(), 3);
  EXPECT_EQ(p0->impact().summary(), "Will delay 3 other jobs by ~65 min each");
  EXPECT_TRUE(scheduler().Promotions().empty());

  auto p = scheduler().RequestPromotion(Promote("d"), kManager);
  ASSERT_OK(p.status());
  EXPECT_EQ(p->state(), v1::PROMOTION_STATE_PENDING);
  EXPECT_EQ(scheduler().GetEntry("d")->pending_promotion_id(),
            p->promotion_id());
  EXPECT_THAT(scheduler().RequestPromotion(Promote("d"), kManager),
              ::trainyard::testing::IsOkAndHolds(::testing::Property(
                  &v1::Promotion::promotion_id, p->promotion_id())));
  PromotionCommand again = Promote("d");
  again.request_id = "another";
  EXPECT_THAT(scheduler().RequestPromotion(again, kOtherManager),
              StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(scheduler().RequestPromotion(Promote("run"), kManager),
              StatusIs(absl::StatusCode::kFailedPrecondition));

  absl::Status self =
      scheduler()
          .ApprovePromotion(p->promotion_id(), p->etag(), "", kManager)
          .status();
  EXPECT_EQ(ErrorReason(self), "SELF_APPROVAL");
  auto approved = scheduler().ApprovePromotion(p->promotion_id(), p->etag(),
                                               "ok", kOtherManager);
  ASSERT_OK(approved.status());
  EXPECT_EQ(approved->first.state(), v1::PROMOTION_STATE_APPROVED);
  EXPECT_EQ(approved->second.position(), 1);
  EXPECT_TRUE(approved->second.promoted());
  EXPECT_THAT(Queued(), ElementsAre("d", "a", "b", "c"));
  absl::Status second =
      scheduler()
          .DenyPromotion(p->promotion_id(), approved->first.etag(), "",
                         {"root", auth::Role::kAdmin})
          .status();
  EXPECT_EQ(ErrorReason(second), "PROMOTION_NOT_PENDING");
  again.request_id = "third";
  EXPECT_THAT(scheduler().RequestPromotion(again, kOtherManager),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // The approvers, the requester and the creator were told.
  std::vector<std::string> kinds;
  for (const auto& n : Sent()) kinds.push_back(n.kind + ":" + n.recipient);
  EXPECT_THAT(kinds, ::testing::IsSupersetOf({"PROMOTION_REQUESTED:approvers",
                                              "PROMOTION_APPROVED:mia",
                                              "PROMOTION_APPROVED:ana"}));
  // Kept across a restart.
  Restart();
  EXPECT_THAT(Queued(), ElementsAre("d", "a", "b", "c"));
  EXPECT_EQ(scheduler().GetPromotion(p->promotion_id())->state(),
            v1::PROMOTION_STATE_APPROVED);
}

TEST_F(SchedulerTest,
       R_Q_05_PendingPromotionExpiresAfter24HoursOrGoesObsolete) {
  SetLimit(1);
  EnqueueAll({{"run", 0}, {"a", 1}, {"b", 2}});
  auto p = scheduler().RequestPromotion(Promote("b"), kManager);
  ASSERT_OK(p.status());
  clock_.Advance(absl::Hours(24) - absl::Seconds(1));
  scheduler().Tick();
  EXPECT_EQ(scheduler().GetPromotion(p->promotion_id())->state(),
            v1::PROMOTION_STATE_PENDING);
  clock_.Advance(absl::Seconds(1));
  scheduler().Tick();
  EXPECT_EQ(scheduler().GetPromotion(p->promotion_id())->state(),
            v1::PROMOTION_STATE_EXPIRED);
  absl::Status late =
      scheduler()
          .ApprovePromotion(p->promotion_id(), p->etag(), "", kOtherManager)
          .status();
  EXPECT_EQ(ErrorReason(late), "PROMOTION_NOT_PENDING");
  // A new request; the job is then cancelled: obsolete.
  PromotionCommand again = Promote("b");
  again.request_id = "second";
  auto q = scheduler().RequestPromotion(again, kManager);
  ASSERT_OK(q.status());
  ASSERT_OK(scheduler().Remove({"", "b", 0, "CANCELLED"}).status());
  EXPECT_EQ(scheduler().GetPromotion(q->promotion_id())->state(),
            v1::PROMOTION_STATE_OBSOLETE);
}

TEST_F(SchedulerTest, R_Q_02_ReconcileFreesSlotsJobControlNoLongerHolds) {
  EnqueueAll({{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}});
  const uint64_t cursor = scheduler().last_assignment_seq();
  std::vector<HeldJobView> held = {{"a", AssignmentOf("a"), 1},
                                   {"ghost", "", 1}};
  // b and c are not held by job-control, but within the grace period.
  auto r = scheduler().Reconcile(held, cursor, false);
  ASSERT_OK(r.status());
  EXPECT_EQ(r->released_size(), 0);
  EXPECT_EQ(r->kept_size(), 2);
  ASSERT_EQ(r->unknown_size(), 1);
  EXPECT_EQ(r->unknown(0).job_id(), "ghost");
  clock_.Advance(absl::Minutes(11));
  auto preview = scheduler().Reconcile(held, cursor, true);
  EXPECT_EQ(preview->released_size(), 2);
  EXPECT_EQ(Running().size(), 3u);
  // Past grace, but job-control has not processed past b's assignment.
  auto early = scheduler().Reconcile(held, cursor - 1, false);
  EXPECT_EQ(early->released_size(), 1);
  EXPECT_EQ(early->released(0).job_id(), "b");
  EXPECT_THAT(Running(), ElementsAre("a", "d", "c"));
}

TEST_F(SchedulerTest, R_Q_07_OptedInUsersGetEachQueueNotificationOnce) {
  SetLimit(1);
  EnqueueAll({{"run", 0}, {"a", 1}, {"b", 2}, {"c", 3}});
  EnqueueCommand mine = Job("mine", T(10));
  mine.triggers = {common::v1::NOTIFICATION_TRIGGER_QUEUE_POSITION_THREE,
                   common::v1::NOTIFICATION_TRIGGER_QUEUE_POSITION_ONE,
                   common::v1::NOTIFICATION_TRIGGER_PROVISIONING_STARTED,
                   common::v1::NOTIFICATION_TRIGGER_TRAINING_STARTED};
  mine.entry.mutable_created_by()->set_user_id("zoe");
  ASSERT_OK(scheduler().Enqueue(mine).status());
  EXPECT_THAT(Sent(), IsEmpty());  // #4
  ASSERT_OK(scheduler().Remove({"", "a", 0, ""}).status());
  ASSERT_OK(scheduler().Remove({"", "b", 0, ""}).status());   // #2
  ASSERT_OK(scheduler().Enqueue(Job("old", T(0))).status());  // back to #3
  ASSERT_EQ(Sent().size(), 1u);
  EXPECT_EQ(Sent()[0].kind, "QUEUE_POSITION_THREE");
  EXPECT_EQ(Sent()[0].recipient, "zoe");
  Restart();  // what was sent is remembered: #3 is not sent again
  ASSERT_OK(scheduler().Remove({"", "old", 0, ""}).status());
  ASSERT_OK(scheduler().Remove({"", "c", 0, ""}).status());  // #1
  ASSERT_OK(scheduler().Release(Release("run", v1::SLOT_OUTCOME_COMPLETED)));
  progress_.Set("mine", testing::Steady(absl::Hours(1), clock_.Now(),
                                        common::v1::STAGE_PREPROCESSING));
  scheduler().Tick();
  progress_.Set("mine", testing::Steady(absl::Hours(1), clock_.Now()));
  scheduler().Tick();
  scheduler().Tick();
  std::vector<std::string> kinds;
  for (const auto& n : Sent()) {
    EXPECT_EQ(n.recipient, "zoe");
    kinds.push_back(n.kind);
  }
  EXPECT_THAT(kinds, ElementsAre("QUEUE_POSITION_ONE", "PROVISIONING_STARTED",
                                 "TRAINING_STARTED"));
}

TEST_F(SchedulerTest, R_Q_03_EstimatesUseMeasuredProgressElseLowConfidence) {
  SetLimit(1);
  EnqueueAll({{"run", 0}, {"a", 1}});
  // No speed yet for the running job: LOW.
  EXPECT_EQ(scheduler().GetEntry("a")->confidence(), v1::CONFIDENCE_LOW);
  progress_.Set("run", testing::Steady(absl::Minutes(40), clock_.Now()));
  scheduler().Tick();
  auto a = scheduler().GetEntry("a");
  EXPECT_EQ(a->confidence(), v1::CONFIDENCE_HIGH);
  EXPECT_EQ(FromProto(a->estimated_start_time()),
            clock_.Now() + absl::Minutes(45));
  EXPECT_EQ(FromProto(a->estimated_wait()), absl::Minutes(45));
  EXPECT_EQ(FromProto(scheduler().Status().next_slot_free_time()),
            clock_.Now() + absl::Minutes(40));
  // Metrics unreachable: back to the run-time estimate, LOW.
  progress_.SetUnreachable(true);
  scheduler().Tick();
  EXPECT_EQ(scheduler().GetEntry("a")->confidence(), v1::CONFIDENCE_LOW);
}

}  // namespace
}  // namespace trainyard::scheduler
