// Copyright 2026 Trainyard authors.
//
// Model-based randomized test: random enqueues, duplicate enqueues, removals,
// releases (right, stale and REQUEUE), resumes, promotions, limit changes,
// stream reconnects and scheduler restarts, each checked against a simple
// model of the queue after every step. Invariants: never two slots for one
// job, never a new slot while as many jobs as the limit hold one, never a
// leaked slot (held slots are exactly the model's running jobs), and every
// held assignment delivered (at least once) to the watcher.
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "services/scheduler/testing/scheduler_fixture.h"

namespace trainyard::scheduler {
namespace {

enum class Phase { kQueued, kRunning, kDone };

struct ModelJob {
  absl::Time created;
  int attempt = 1;
  Phase phase = Phase::kQueued;
  bool promoted = false;
  absl::Time promote_time;
  std::string assignment_id;
  std::vector<std::string> old_assignments;
};

class Model {
 public:
  std::map<std::string, ModelJob> jobs;
  int limit = 3;

  std::vector<std::string> Order() const {
    std::vector<std::pair<QueueKey, std::string>> keys;
    for (const auto& [id, j] : jobs) {
      if (j.phase != Phase::kQueued) continue;
      keys.push_back({{j.promoted, j.promoted ? j.promote_time : absl::Time(),
                       j.created, id},
                      id});
    }
    std::sort(keys.begin(), keys.end());
    std::vector<std::string> out;
    for (auto& k : keys) out.push_back(k.second);
    return out;
  }
  std::set<std::string> Running() const {
    std::set<std::string> out;
    for (const auto& [id, j] : jobs) {
      if (j.phase == Phase::kRunning) out.insert(id);
    }
    return out;
  }
  // Starts queued jobs while fewer than the limit run.
  void Dispatch() {
    while (static_cast<int>(Running().size()) < limit) {
      auto order = Order();
      if (order.empty()) return;
      jobs[order[0]].phase = Phase::kRunning;
    }
  }
};

class InvariantTest : public ::testing::TestWithParam<int>,
                      public testing::SchedulerFixture {
 protected:
  void Check(const Model& model, const std::string& step) {
    SCOPED_TRACE(step);
    std::vector<v1::Slot> slots = scheduler().Slots();
    std::set<std::string> held;
    std::set<int> indexes;
    for (const auto& s : slots) {
      EXPECT_TRUE(held.insert(s.job_id()).second)
          << "two slots for " << s.job_id();
      EXPECT_TRUE(indexes.insert(s.slot_index()).second)
          << "slot index " << s.slot_index() << " used twice";
    }
    EXPECT_EQ(held, model.Running()) << "leaked or missing slot";
    EXPECT_EQ(Queued(), model.Order());
    // Never over the limit unless it was lowered under running jobs; and
    // then no job waits while a slot is free.
    if (static_cast<int>(slots.size()) > model.limit) {
      EXPECT_EQ(prev_slots_ >= static_cast<int>(slots.size()), true)
          << "a slot was assigned over the limit";
    }
    if (static_cast<int>(slots.size()) < model.limit) {
      EXPECT_TRUE(Queued().empty()) << "a job waits while a slot is free";
    }
    prev_slots_ = static_cast<int>(slots.size());
  }

  // The watcher (job-control's stream): reads after its stream cursor, and
  // sometimes acknowledges (durably remembers) the cursor.
  void Watch(std::mt19937& rng) {
    for (const auto& a : scheduler().AssignmentsAfter(stream_cursor_, 1000)) {
      delivered_.insert(a.assignment.assignment_id());
      stream_cursor_ = a.seq;
    }
    if (rng() % 3 == 0) acked_ = stream_cursor_;
    for (const auto& s : scheduler().Slots()) {
      EXPECT_TRUE(delivered_.contains(s.assignment_id()))
          << "assignment " << s.assignment_id() << " never delivered";
    }
  }

  void Reconnect() {
    stream_cursor_ = acked_;
    // Every held assignment after the acknowledged cursor comes again.
    std::set<std::string> again;
    for (const auto& a : scheduler().AssignmentsAfter(acked_, 1000)) {
      again.insert(a.assignment.assignment_id());
    }
    for (const auto& s : scheduler().Slots()) {
      auto all = scheduler().AssignmentsAfter(0, 1000);
      for (const auto& a : all) {
        if (a.assignment.assignment_id() == s.assignment_id() &&
            a.seq > acked_) {
          EXPECT_TRUE(again.contains(s.assignment_id()));
        }
      }
    }
  }

  int prev_slots_ = 0;
  uint64_t stream_cursor_ = 0;
  uint64_t acked_ = 0;
  std::set<std::string> delivered_;
};

TEST_P(InvariantTest, R_Q_01_R_Q_02_R_Q_04_SlotsNeverLeakOrExceedTheLimit) {
  std::mt19937 rng(GetParam());
  Model model;
  int next_job = 0;
  auto pick = [&](Phase phase) -> std::string {
    std::vector<std::string> ids;
    for (const auto& [id, j] : model.jobs) {
      if (j.phase == phase) ids.push_back(id);
    }
    if (ids.empty()) return "";
    return ids[rng() % ids.size()];
  };
  const absl::Time base = clock_.Now();
  for (int step = 0; step < 300; ++step) {
    clock_.Advance(absl::Seconds(1));
    const int op = static_cast<int>(rng() % 100);
    std::string what;
    if (op < 28) {  // a new job, created at a random earlier time
      std::string id = absl::StrCat("j", next_job++);
      absl::Time created = base - absl::Minutes(rng() % 1000);
      ASSERT_OK(scheduler().Enqueue(Job(id, created)).status());
      model.jobs[id] = {created};
      model.Dispatch();
      what = "enqueue " + id;
    } else if (op < 33) {  // a retried enqueue of a known attempt
      if (model.jobs.empty()) continue;
      auto it = std::next(model.jobs.begin(), rng() % model.jobs.size());
      ASSERT_OK(scheduler()
                    .Enqueue(Job(it->first, it->second.created, absl::Hours(1),
                                 it->second.attempt))
                    .status());
      what = "re-enqueue " + it->first;
    } else if (op < 43) {  // remove (cancel while queued, or racing a start)
      std::string id = pick(rng() % 2 ? Phase::kQueued : Phase::kRunning);
      if (id.empty()) continue;
      auto removed = scheduler().Remove({"", id, 0, "CANCELLED"});
      ASSERT_OK(removed.status());
      EXPECT_EQ(*removed, model.jobs[id].phase == Phase::kQueued);
      if (model.jobs[id].phase == Phase::kQueued) {
        model.jobs[id].phase = Phase::kDone;
      }
      what = "remove " + id;
    } else if (op < 63) {  // release a running job
      std::string id = pick(Phase::kRunning);
      if (id.empty()) continue;
      ModelJob& j = model.jobs[id];
      std::string assignment;
      for (const auto& s : scheduler().Slots()) {
        if (s.job_id() == id) assignment = s.assignment_id();
      }
      const bool requeue = rng() % 5 == 0;
      ReleaseCommand r;
      r.job_id = id;
      r.attempt = j.attempt;
      r.assignment_id = assignment;
      r.outcome =
          requeue ? v1::SLOT_OUTCOME_REQUEUE : v1::SLOT_OUTCOME_COMPLETED;
      EXPECT_THAT(scheduler().Release(r),
                  ::trainyard::testing::IsOkAndHolds(true));
      j.old_assignments.push_back(assignment);
      j.phase = requeue ? Phase::kQueued : Phase::kDone;
      model.Dispatch();
      what = "release " + id;
    } else if (op < 68) {  // a late release of an old assignment
      std::string id = pick(Phase::kRunning);
      if (id.empty() || model.jobs[id].old_assignments.empty()) continue;
      ReleaseCommand r;
      r.job_id = id;
      r.attempt = model.jobs[id].attempt;
      r.assignment_id = model.jobs[id].old_assignments.front();
      r.outcome = v1::SLOT_OUTCOME_FAILED;
      EXPECT_THAT(scheduler().Release(r),
                  ::trainyard::testing::IsOkAndHolds(false));
      what = "stale release " + id;
    } else if (op < 78) {  // resume or retry a finished job
      std::string id = pick(Phase::kDone);
      if (id.empty()) continue;
      ModelJob& j = model.jobs[id];
      ++j.attempt;
      ASSERT_OK(scheduler()
                    .Enqueue(Job(id, j.created, absl::Hours(1), j.attempt))
                    .status());
      j.phase = Phase::kQueued;
      j.promoted = false;
      model.Dispatch();
      what = "resume " + id;
    } else if (op < 84) {  // promote a queued job
      std::string id = pick(Phase::kQueued);
      if (id.empty() || model.jobs[id].promoted) continue;
      PromotionCommand cmd;
      cmd.request_id = absl::StrCat("promote-", step);
      cmd.job_id = id;
      cmd.reason = v1::PROMOTION_REASON_MANAGER_OVERRIDE;
      cmd.justification = std::string(100, 'j');
      auto p = scheduler().RequestPromotion(cmd, {"mia", auth::Role::kManager});
      ASSERT_OK(p.status());
      ASSERT_OK(scheduler()
                    .ApprovePromotion(p->promotion_id(), p->etag(), "",
                                      {"max", auth::Role::kManager})
                    .status());
      model.jobs[id].promoted = true;
      model.jobs[id].promote_time = clock_.Now();
      what = "promote " + id;
    } else if (op < 90) {  // change the limit
      v1::QueueSettings s = scheduler().Settings();
      s.set_concurrency_limit(1 + static_cast<int>(rng() % 5));
      ASSERT_OK(scheduler()
                    .UpdateSettings(s, {"concurrency_limit"},
                                    {"root", auth::Role::kAdmin})
                    .status());
      model.limit = s.concurrency_limit();
      model.Dispatch();
      what = absl::StrCat("limit ", model.limit);
    } else if (op < 95) {
      Reconnect();
      what = "reconnect";
    } else {
      Restart();
      Reconnect();  // job-control reconnects to the restarted scheduler
      what = "restart";
    }
    Watch(rng);
    Check(model, absl::StrCat("step ", step, ": ", what));
    if (HasFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, InvariantTest, ::testing::Values(1, 2, 3));

}  // namespace
}  // namespace trainyard::scheduler
