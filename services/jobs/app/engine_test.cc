// Copyright 2026 Trainyard authors.
//
// The engine and the effect runner on a real RocksDB (temp dir), fakes for
// the services and the provider, fake clocks for suite and wall time.
#include "services/jobs/app/engine.h"

#include <atomic>
#include <fstream>
#include <memory>

#include "common/notify/notify_flags.h"
#include "common/notify/sinks.h"
#include "common/storage/db.h"
#include "common/storage/storage_test_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "common/time/proto_time.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "services/jobs/app/copy_refresher.h"
#include "services/jobs/app/effect_runner.h"
#include "services/jobs/app/fake_clients.h"
#include "services/jobs/app/job_notifier.h"
#include "services/jobs/domain/job_spec.h"
#include "services/jobs/views/job_index.h"

namespace trainyard::jobs {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using trainyard::testing::StatusIs;
using namespace trainyard::jobs::testing;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    runner_.reset();
    engine_.reset();
    store_.reset();
    db_.reset();
    auto db = storage::Db::Open(storage::testing::TestOptions(
        dir_.Sub("db"), JobStore::ColumnFamilies()));
    ASSERT_OK(db.status());
    db_ = *std::move(db);
    auto store = JobStore::Open(*db_);
    ASSERT_OK(store.status());
    store_ = *std::move(store);
    engine_ = std::make_unique<Engine>(suite_, *store_, LifecycleOptions{});
    RunnerOptions o;
    o.webhook_master_key = "key";
    runner_ = std::make_unique<EffectRunner>(
        wall_, *engine_, provider_, scheduler_, cost_, metrics_, notifier_, o);
  }

  v1::JobSpec Spec() {
    v1::JobSpec s;
    s.set_display_name("bot");
    auto* c = s.mutable_config();
    c->set_base_model("m");
    c->mutable_dataset()->set_uri("s3://d");
    c->mutable_dataset()->set_conversations(1000);
    c->set_gpu_type(common::v1::GPU_TYPE_L40S);
    return *NormalizeSpec(s, SpecDefaults{}, "spec");
  }

  Actor Ana() {
    Actor a;
    a.user.set_user_id("ana");
    a.role = common::v1::ROLE_ENGINEER;
    return a;
  }

  std::string CreateAndAssign() {
    auto r = engine_->Create(Spec(), Ana(), "req-1");
    EXPECT_OK(r.status());
    AssignmentInput a;
    a.assignment.set_job_id(r->job().job_id());
    a.assignment.set_attempt(1);
    EXPECT_OK(engine_->Apply(r->job().job_id(), a).status());
    return r->job().job_id();
  }

  // Runs the outbox to empty (each round may queue more).
  void Drain() {
    for (int i = 0; i < 20 && runner_->RunOnce() > 0; ++i) {
    }
  }

  internal::JobRecord Get(const std::string& id) { return *store_->Get(id); }

  // Runs effects through `notifier`; creates a job and cancels it while
  // queued (JOB_CANCELLED is always notified); returns its id.
  std::string CreateAndCancelWith(Notifier& notifier) {
    runner_ = std::make_unique<EffectRunner>(
        wall_, *engine_, provider_, scheduler_, cost_, metrics_, notifier,
        RunnerOptions{.webhook_master_key = "key"});
    auto r = engine_->Create(Spec(), Ana(), "req-1");
    EXPECT_OK(r.status());
    if (!r.ok()) return "";
    CancelCommand cancel;
    cancel.actor = Ana();
    cancel.reason = v1::CANCEL_REASON_TESTING;
    EXPECT_OK(engine_->Apply(r->job().job_id(), cancel).status());
    Drain();
    return r->job().job_id();
  }

  trainyard::testing::TempDir dir_;
  FakeClock suite_;
  FakeClock wall_;
  FakeProvider provider_;
  FakeScheduler scheduler_;
  FakeCost cost_;
  FakeMetrics metrics_;
  FakeNotifier notifier_;
  std::unique_ptr<storage::Db> db_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<EffectRunner> runner_;
};

TEST_F(EngineTest, CreateIsIdempotentByRequestId) {
  auto a = engine_->Create(Spec(), Ana(), "req-1");
  auto b = engine_->Create(Spec(), Ana(), "req-1");
  auto c = engine_->Create(Spec(), Ana(), "req-2");
  ASSERT_OK(a.status());
  EXPECT_EQ(a->job().job_id(), b->job().job_id());
  EXPECT_NE(a->job().job_id(), c->job().job_id());
  // One job's effects, not two: register, enqueue, queued event per job.
  EXPECT_EQ(*store_->OutboxSize(), 6);
}

TEST_F(EngineTest, TransitionAndOutboxSurviveARestart) {
  std::string id = CreateAndAssign();
  Open();  // as after kill -9: what was written is there
  EXPECT_EQ(Get(id).job().state(), common::v1::JOB_STATE_PROVISIONING);
  EXPECT_EQ(*store_->OutboxSize(), 5);  // + create_pod, provisioning event
  Drain();
  EXPECT_EQ(*store_->OutboxSize(), 0);
  EXPECT_EQ(Get(id).pod().pod_id(), "pod-1");
  EXPECT_EQ(provider_.size(), 1);
}

TEST_F(EngineTest, FailingServicesKeepEffectsWithoutBlockingTheLifecycle) {
  scheduler_.Fail(absl::UnimplementedError("scheduler not deployed"));
  cost_.Fail(absl::UnimplementedError("cost not deployed"));
  std::string id = CreateAndAssign();
  Drain();
  // The pod exists and the job moves on although scheduler and cost fail.
  EXPECT_EQ(Get(id).pod().pod_id(), "pod-1");
  EXPECT_THAT(scheduler_.calls(), IsEmpty());
  EXPECT_GT(*store_->OutboxSize(), 0);
  // Retried with back-off once they answer.
  scheduler_.Fail(absl::OkStatus());
  cost_.Fail(absl::OkStatus());
  EXPECT_EQ(runner_->RunOnce(), 0);  // still backing off (wall time)
  wall_.Advance(absl::Minutes(1));
  Drain();
  EXPECT_EQ(*store_->OutboxSize(), 0);
  EXPECT_THAT(scheduler_.calls(), ElementsAre(HasSubstr("Enqueue")));
  EXPECT_THAT(cost_.calls(), Contains(HasSubstr("OpenMeter")));
}

TEST_F(EngineTest, ALostCreateAnswerAdoptsThePodByName) {
  std::string id = CreateAndAssign();
  // The provider made the pod but the answer was lost (a timeout).
  provider_.create_error = absl::DeadlineExceededError("timeout");
  PodRequest made;
  made.name = PodName(id, 1);
  provider_.create_error = absl::OkStatus();
  ASSERT_OK(provider_.CreatePod(made).status());
  Drain();
  EXPECT_EQ(provider_.size(), 1);  // adopted, not created twice
  EXPECT_EQ(Get(id).pod().pod_id(), "pod-1");
}

TEST_F(EngineTest, PodGetsTheJobsEnvAndTheDerivedSecret) {
  std::string id = CreateAndAssign();
  Drain();
  PodRequest r = provider_.request("pod-1");
  EXPECT_EQ(r.name, id + "-a1");
  EXPECT_EQ(r.gpu_type, common::v1::GPU_TYPE_L40S);
  EXPECT_TRUE(r.interruptible);
  EXPECT_EQ(r.env.at("TRAINYARD_JOB_ID"), id);
  EXPECT_EQ(r.env.at("TRAINYARD_ATTEMPT"), "1");
  EXPECT_EQ(r.env.at("TRAINYARD_RESUME_STEP"), "0");
  EXPECT_THAT(r.env.at("TRAINYARD_WEBHOOK_SECRET"), HasSubstr("whsec_"));
  EXPECT_EQ(r.env.at("TRAINYARD_WEBHOOK_URL"),
            "http://127.0.0.1:7113/v1/webhooks/runpod/" + id);
}

TEST_F(EngineTest, R_CAN_02_CancelDeletesThePodAndEndsCancelled) {
  std::string id = CreateAndAssign();
  Drain();
  CancelCommand c;
  c.actor = Ana();
  c.reason = v1::CANCEL_REASON_TESTING;
  ASSERT_OK(engine_->Apply(id, c).status());
  EXPECT_EQ(Get(id).job().state(), common::v1::JOB_STATE_CANCELLING);
  Drain();
  internal::JobRecord r = Get(id);
  EXPECT_EQ(r.job().state(), common::v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(r.job().cancellation().termination_status(),
            v1::TERMINATION_STATUS_TERMINATED);
  EXPECT_THAT(scheduler_.calls(),
              Contains("ReleaseSlot " + id + " SLOT_OUTCOME_CANCELLED"));
  EXPECT_THAT(cost_.calls(), Contains(HasSubstr("CloseMeter m-")));
  auto audit = store_->ListAudit(id);
  ASSERT_OK(audit.status());
  EXPECT_EQ(audit->back().action(), v1::AUDIT_ACTION_CANCELLED);
}

TEST_F(EngineTest, ExitWaitsForTheEventsStreamThenCompletes) {
  std::string id = CreateAndAssign();
  Drain();
  auto status = [&](common::v1::Stage stage, double progress, uint64_t seq) {
    metrics::v1::Event e;
    e.set_job_id(id);
    e.set_type(common::v1::EVENT_TYPE_STATUS);
    e.set_source(common::v1::EVENT_SOURCE_CONTAINER);
    e.set_attempt(1);
    e.set_job_seq(seq);
    e.mutable_status()->set_stage(stage);
    e.mutable_status()->set_stage_progress(progress);
    ASSERT_OK(engine_
                  ->Apply(id, EventInput{e}, {},
                          std::pair<std::string, std::string>{"events", "c1"})
                  .status());
  };
  status(common::v1::STAGE_TRAINING, 0, 5);
  status(common::v1::STAGE_FINALIZATION, 100, 6);
  EXPECT_EQ(*store_->Cursor("events"), "c1");
  provider_.Exit("pod-1", "completed");
  metrics_.latest_job_seq = 7;  // one more event is on its way
  runner_->PollOnce(true);
  EXPECT_EQ(Get(id).job().state(), common::v1::JOB_STATE_FINALIZING);
  metrics_.latest_job_seq = 6;
  runner_->PollOnce(true);
  EXPECT_EQ(Get(id).job().state(), common::v1::JOB_STATE_COMPLETED);
  Drain();
  EXPECT_THAT(notifier_.calls(), Contains(HasSubstr("completed")));
}

// An event of attempt 1 of `id`.
metrics::v1::Event Event(const std::string& id, common::v1::EventType type,
                         uint64_t seq) {
  metrics::v1::Event e;
  e.set_job_id(id);
  e.set_type(type);
  e.set_source(common::v1::EVENT_SOURCE_CONTAINER);
  e.set_attempt(1);
  e.set_job_seq(seq);
  return e;
}

metrics::v1::Event Training(const std::string& id, uint64_t seq) {
  metrics::v1::Event e = Event(id, common::v1::EVENT_TYPE_STATUS, seq);
  e.mutable_status()->set_stage(common::v1::STAGE_TRAINING);
  return e;
}

// The kinds FakeNotifier saw, in order.
std::vector<std::string> Kinds(const FakeNotifier& n) {
  std::vector<std::string> out;
  for (const std::string& call : n.calls()) {
    out.push_back(call.substr(0, call.find(' ')));
  }
  return out;
}

// R-CAN-05, orchestration.md: which transitions notify. The opt-in triggers
// of the spec (provisioning and training started, stalled, paused, resumed)
// and the always-sent ones (cancelled), each once, in order, naming the job.
TEST_F(EngineTest, R_CAN_05_OptedInTransitionsNotify) {
  v1::JobSpec spec = Spec();
  for (auto t : {common::v1::NOTIFICATION_TRIGGER_PROVISIONING_STARTED,
                 common::v1::NOTIFICATION_TRIGGER_TRAINING_STARTED,
                 common::v1::NOTIFICATION_TRIGGER_JOB_STALLED,
                 common::v1::NOTIFICATION_TRIGGER_JOB_PAUSED,
                 common::v1::NOTIFICATION_TRIGGER_JOB_RESUMED}) {
    spec.add_notification_triggers(t);
  }
  auto created = engine_->Create(spec, Ana(), "req-n");
  ASSERT_OK(created.status());
  const std::string id = created->job().job_id();
  Drain();
  EXPECT_THAT(notifier_.calls(), IsEmpty());  // queued: nothing to say
  AssignmentInput a;
  a.assignment.set_job_id(id);
  a.assignment.set_attempt(1);
  ASSERT_OK(engine_->Apply(id, a).status());
  Drain();
  ASSERT_OK(engine_->Apply(id, EventInput{Training(id, 1)}).status());
  // A speed drop is shown and notified, nothing else.
  metrics::v1::Event drop = Event(id, common::v1::EVENT_TYPE_WARNING, 2);
  drop.set_source(common::v1::EVENT_SOURCE_CONTROL_PLANE);
  drop.set_message("Training slowed down: 4.1 s/step vs 1.2 s/step baseline");
  drop.mutable_stall()->set_reason(common::v1::STALL_REASON_SPEED_DROP);
  ASSERT_OK(engine_->Apply(id, EventInput{drop}).status());
  EXPECT_EQ(Get(id).job().state(), common::v1::JOB_STATE_TRAINING);
  PauseCommand pause;
  pause.actor = Ana();
  ASSERT_OK(engine_->Apply(id, pause).status());
  Drain();
  provider_.Exit("pod-1", "stopped");
  runner_->PollOnce(true);
  ASSERT_EQ(Get(id).job().state(), common::v1::JOB_STATE_PAUSED);
  ResumeCommand resume;
  resume.actor = Ana();
  ASSERT_OK(engine_->Apply(id, resume).status());
  CancelCommand cancel;
  cancel.actor = Ana();
  cancel.reason = v1::CANCEL_REASON_TESTING;
  ASSERT_OK(engine_->Apply(id, cancel).status());
  Drain();
  EXPECT_THAT(
      Kinds(notifier_),
      ElementsAre("PROVISIONING_STARTED", "TRAINING_STARTED", "JOB_STALLED",
                  "JOB_PAUSED", "JOB_RESUMED", "JOB_CANCELLED"));
  for (const std::string& call : notifier_.calls()) {
    EXPECT_THAT(call, HasSubstr(id));
    EXPECT_THAT(call, HasSubstr("bot"));
  }
  EXPECT_EQ(*store_->OutboxSize(), 0);
}

// Without opt-ins only completed, failed, cancelled and budget alerts are
// sent; the budget's CANCEL action notifies the alert and the cancel.
TEST_F(EngineTest, R_X_05_OnlyOutcomesAndBudgetActionsNotifyByDefault) {
  std::string failed = CreateAndAssign();
  Drain();
  ASSERT_OK(engine_->Apply(failed, EventInput{Training(failed, 1)}).status());
  metrics::v1::Event oom = Event(failed, common::v1::EVENT_TYPE_ERROR, 2);
  oom.mutable_error()->set_code("CUDA_OOM");
  oom.mutable_error()->set_message("CUDA out of memory");
  ASSERT_OK(engine_->Apply(failed, EventInput{oom}).status());
  Drain();
  EXPECT_THAT(Kinds(notifier_), ElementsAre("JOB_FAILED"));
  EXPECT_THAT(notifier_.calls()[0], HasSubstr("CUDA_OOM"));

  auto over = engine_->Create(Spec(), Ana(), "req-2");
  ASSERT_OK(over.status());
  const std::string id = over->job().job_id();
  BudgetAlertInput alert;
  alert.alert.set_job_id(id);
  alert.alert.set_kind(cost::v1::ALERT_KIND_BUDGET_EXCEEDED);
  alert.alert.set_action(common::v1::BUDGET_ACTION_CANCEL);
  alert.alert.set_message("Spend $51.20 passed the $50.00 budget");
  ASSERT_OK(engine_->Apply(id, alert).status());
  Drain();
  EXPECT_EQ(Get(id).job().state(), common::v1::JOB_STATE_CANCELLED);
  EXPECT_THAT(Kinds(notifier_),
              ElementsAre("JOB_FAILED", "BUDGET_EXCEEDED", "JOB_CANCELLED"));
  EXPECT_THAT(notifier_.calls()[1], HasSubstr("BUDGET_ACTION_CANCEL"));
}

// A sink that always fails transiently and counts its attempts.
class DownSink final : public notify::Sink {
 public:
  explicit DownSink(std::atomic<int>* attempts) : attempts_(attempts) {}
  std::string_view name() const override { return "down"; }
  absl::Status Deliver(const notify::Notification&) override {
    ++*attempts_;
    return absl::UnavailableError("webhook down");
  }

 private:
  std::atomic<int>* attempts_;
};

// The real notifier and JSONL file: a notification not yet delivered when
// job-control dies stays in the outbox and is delivered after the restart,
// once, naming the job, its name, its owner and what happened.
TEST_F(EngineTest, R_CAN_05_NotificationsReachTheFileOnceAcrossARestart) {
  std::atomic<int> attempts = 0;
  {
    std::vector<std::unique_ptr<notify::Sink>> sinks;
    sinks.push_back(std::make_unique<DownSink>(&attempts));
    notify::Notifier down(std::move(sinks),
                          {.initial_backoff = absl::Hours(1)});
    JobNotifier jobs(down, absl::ZeroDuration());
    const std::string id = CreateAndCancelWith(jobs);
    EXPECT_EQ(*store_->OutboxSize(), 1);  // the notification, undelivered
    // The cancel's audit entry lists it, not yet delivered.
    auto audit = store_->ListAudit(id);
    ASSERT_OK(audit.status());
    ASSERT_FALSE(audit->empty());
    const v1::AuditEntry& cancelled = audit->back();
    EXPECT_EQ(cancelled.action(), v1::AUDIT_ACTION_CANCELLED);
    ASSERT_EQ(cancelled.notifications_size(), 1);
    EXPECT_EQ(cancelled.notifications(0).trigger(),
              common::v1::NOTIFICATION_TRIGGER_JOB_CANCELLED);
    EXPECT_EQ(cancelled.notifications(0).status(), v1::DELIVERY_STATUS_PENDING);
    EXPECT_EQ(cancelled.notifications(0).target().address(), "ana");
    runner_.reset();
  }  // "kill -9": the notifier goes with its queue
  // Tried at most once, and never delivered.
  EXPECT_LE(attempts.load(), 1);
  Open();
  const std::string file = dir_.Sub("notifications.jsonl");
  std::unique_ptr<notify::Notifier> real = notify::MakeNotifier({.file = file});
  JobNotifier jobs(*real, absl::Seconds(30));
  runner_ = std::make_unique<EffectRunner>(
      wall_, *engine_, provider_, scheduler_, cost_, metrics_, jobs,
      RunnerOptions{.webhook_master_key = "key"});
  Drain();
  EXPECT_EQ(*store_->OutboxSize(), 0);
  Drain();
  real->Flush();
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 1u);
  google::protobuf::Struct line;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(lines[0], &line).ok());
  auto field = [&](const std::string& name) {
    return line.fields().at(name).string_value();
  };
  const auto records = *store_->ListJobs();
  ASSERT_EQ(records.size(), 1u);
  const std::string job_id = records[0].job().job_id();
  EXPECT_EQ(field("kind"), "JOB_CANCELLED");
  EXPECT_EQ(field("job_id"), job_id);
  EXPECT_EQ(field("recipient"), "ana");
  EXPECT_THAT(field("text"),
              AllOf(HasSubstr("bot"), HasSubstr("cancelled by ana"),
                    HasSubstr(job_id), HasSubstr("owner ana")));
  EXPECT_THAT(field("id"), HasSubstr(job_id + "/1/notify/"));
  // R-CAN-05: the audit trail says it was sent.
  auto audit = store_->ListAudit(job_id);
  ASSERT_OK(audit.status());
  const v1::AuditEntry& cancelled = audit->back();
  ASSERT_EQ(cancelled.notifications_size(), 1);
  EXPECT_EQ(cancelled.notifications(0).status(), v1::DELIVERY_STATUS_SENT);
  EXPECT_EQ(cancelled.notifications(0).attempts(), 1);
  EXPECT_TRUE(cancelled.notifications(0).has_time());
  runner_.reset();
}

// A notification the sinks give up on is FAILED on its audit entry, with the
// sink's error; the outbox entry goes (it is not retried forever).
TEST_F(EngineTest, R_CAN_05_AuditEntryRecordsAFailedNotification) {
  std::vector<std::unique_ptr<notify::Sink>> sinks;
  sinks.push_back(std::make_unique<notify::WebhookSink>(""));  // no URL: final
  notify::Notifier notifier(std::move(sinks));
  JobNotifier jobs(notifier, absl::Seconds(30));
  const std::string id = CreateAndCancelWith(jobs);
  EXPECT_EQ(*store_->OutboxSize(), 0);
  auto audit = store_->ListAudit(id);
  ASSERT_OK(audit.status());
  const v1::AuditEntry& cancelled = audit->back();
  ASSERT_EQ(cancelled.notifications_size(), 1);
  EXPECT_EQ(cancelled.notifications(0).status(), v1::DELIVERY_STATUS_FAILED);
  EXPECT_EQ(cancelled.notifications(0).attempts(), 1);
  EXPECT_THAT(cancelled.notifications(0).error(), HasSubstr("webhook: "));
  runner_.reset();
}

TEST_F(EngineTest, TimersFireOnTheSuiteClock) {
  std::string id = CreateAndAssign();
  provider_.create_error = absl::UnavailableError("503");
  Drain();
  EXPECT_EQ(Get(id).job().state(), common::v1::JOB_STATE_PROVISIONING);
  suite_.Advance(absl::Minutes(31));
  runner_->TickOnce();
  EXPECT_EQ(Get(id).job().state(), common::v1::JOB_STATE_FAILED);
  EXPECT_EQ(Get(id).job().failure().code(), "NO_CAPACITY");
}

// The list's copies (app/copy_refresher.h): refreshed from metrics and cost
// in batches, written only when a figure changed, seen by the jobs list
// index (filter and sort by cost), fixed by FinalizeJobCost's answer.
TEST_F(EngineTest, R_LIST_07_CopiesRefreshFromMetricsAndCostIntoTheList) {
  auto index = JobIndex::Build(*store_, 1);
  ASSERT_OK(index.status());
  store_->AddObserver(
      [i = index->get()](const internal::JobRecord& r) { i->Upsert(r); });
  CopyRefresher refresher(*engine_, metrics_, cost_);
  store_->AddObserver(
      [&refresher](const internal::JobRecord& r) { refresher.Observe(r); });
  auto a = engine_->Create(Spec(), Ana(), "req-a");
  auto b = engine_->Create(Spec(), Ana(), "req-b");
  ASSERT_OK(a.status());
  ASSERT_OK(b.status());
  const std::string ida = a->job().job_id(), idb = b->job().job_id();
  const std::string etag = a->job().etag();
  auto progress = [&](const std::string& id, int64_t step, bool final) {
    common::v1::Progress p;
    p.set_job_id(id);
    p.set_step(step);
    p.set_total_steps(300);
    p.set_percent(100.0 * step / 300);
    p.set_stage(common::v1::STAGE_TRAINING);
    p.set_job_state(common::v1::JOB_STATE_TRAINING);
    p.set_final(final);
    *p.mutable_as_of() = ToProto(suite_.Now());
    return p;
  };
  auto cost = [&](const std::string& id, int64_t dollars) {
    common::v1::CostSummary c;
    c.set_job_id(id);
    c.mutable_spend()->set_currency_code("USD");
    c.mutable_spend()->set_micros(dollars * 1'000'000);
    c.mutable_estimate()->mutable_low()->set_micros(45'000'000);
    *c.mutable_as_of() = ToProto(suite_.Now());
    return c;
  };
  metrics_.progress[ida] = progress(ida, 150, false);
  cost_.summaries[ida] = cost(ida, 60);
  cost_.summaries[idb] = cost(idb, 10);
  ASSERT_OK(refresher.RefreshOnce());
  EXPECT_THAT(metrics_.calls(), Contains("BatchGetProgress 2"));
  EXPECT_THAT(cost_.calls(), Contains("BatchGetJobCosts 2"));
  internal::JobRecord ra = Get(ida);
  EXPECT_EQ(ra.job().progress().step(), 150);
  EXPECT_DOUBLE_EQ(ra.job().progress().percent(), 50);
  EXPECT_EQ(ra.job().cost().spend().micros(), 60'000'000);
  EXPECT_EQ(ra.job().etag(), etag);
  // b: metrics does not know it yet; its cost is copied.
  EXPECT_EQ(Get(idb).job().progress().step(), 0);
  EXPECT_EQ(Get(idb).job().cost().spend().micros(), 10'000'000);

  // The list filters and sorts by the copies.
  const int64_t now_us = absl::ToUnixMicros(suite_.Now());
  auto over50 = ParseJobQuery("cost > 50", "", "cost desc");
  ASSERT_OK(over50.status());
  EXPECT_THAT((*index)->Query(*over50, std::nullopt, 10, now_us).job_ids,
              ElementsAre(ida));
  auto by_cost = ParseJobQuery("", "", "cost asc");
  ASSERT_OK(by_cost.status());
  EXPECT_THAT((*index)->Query(*by_cost, std::nullopt, 10, now_us).job_ids,
              ElementsAre(idb, ida));

  // Same figures a round later (as_of moved): nothing is written.
  suite_.Advance(absl::Seconds(2));
  const uint64_t changes = (*index)->LastChange();
  metrics_.progress[ida] = progress(ida, 150, false);
  ASSERT_OK(refresher.RefreshOnce());
  EXPECT_EQ((*index)->LastChange(), changes);

  // The end fixes the figures: cancel a (queued), FinalizeJobCost answers
  // its final cost; metrics' final progress fixes the step.
  CancelCommand c;
  c.actor = Ana();
  c.reason = v1::CANCEL_REASON_TESTING;
  ASSERT_OK(engine_->Apply(ida, c).status());
  cost_.final_tracker.set_job_id(ida);
  cost_.final_tracker.mutable_spend()->set_micros(61'000'000);
  cost_.final_tracker.set_final(true);
  Drain();
  ra = Get(ida);
  EXPECT_TRUE(ra.job().cost().final());
  EXPECT_EQ(ra.job().cost().spend().micros(), 61'000'000);
  EXPECT_EQ(refresher.tracked(), 2u);  // a's progress is not final yet
  metrics_.progress[ida] = progress(ida, 150, true);
  ASSERT_OK(refresher.RefreshOnce());
  EXPECT_TRUE(Get(ida).progress_final());
  EXPECT_EQ(refresher.tracked(), 1u);
  // Fixed: later answers change nothing.
  cost_.summaries[ida] = cost(ida, 70);
  ASSERT_OK(refresher.RefreshOnce());
  EXPECT_EQ(Get(ida).job().cost().spend().micros(), 61'000'000);
}

TEST_F(EngineTest, R_LIST_07_CopiesRefreshWhileOneServiceIsDown) {
  CopyRefresher refresher(*engine_, metrics_, cost_);
  auto a = engine_->Create(Spec(), Ana(), "req-a");
  ASSERT_OK(a.status());
  const std::string id = a->job().job_id();
  common::v1::CostSummary c;
  c.set_job_id(id);
  c.mutable_spend()->set_micros(5'000'000);
  cost_.summaries[id] = c;
  metrics_.Fail(absl::UnavailableError("metrics down"));
  // Seeded from the store on the first round (the job predates it).
  EXPECT_THAT(refresher.RefreshOnce(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(refresher.tracked(), 1u);
  EXPECT_EQ(Get(id).job().cost().spend().micros(), 5'000'000);
}

}  // namespace
}  // namespace trainyard::jobs
