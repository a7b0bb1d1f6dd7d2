// Copyright 2026 Trainyard authors.
//
// The engine and the effect runner on a real RocksDB (temp dir), fakes for
// the services and the provider, fake clocks for suite and wall time.
#include "services/jobs/app/engine.h"

#include <memory>

#include "common/storage/db.h"
#include "common/storage/storage_test_util.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "common/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/jobs/app/effect_runner.h"
#include "services/jobs/app/fake_clients.h"
#include "services/jobs/domain/job_spec.h"

namespace trainyard::jobs {
namespace {

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

}  // namespace
}  // namespace trainyard::jobs
