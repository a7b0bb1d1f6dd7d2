// Copyright 2026 Trainyard authors.
//
// The pod lifecycle on a FakeClock, webhooks going to a scripted transport.
#include "tools/gpusim/cloud/cloud.h"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/testing/status_matchers.h"
#include "common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/gpusim/cloud/sim_driver.h"
#include "tools/gpusim/delivery/scripted_transport.h"

namespace trainyard::gpusim {
namespace {

using ::testing::HasSubstr;
using testing::ScriptedTransport;
using ::trainyard::testing::IsOkAndHolds;
using ::trainyard::testing::StatusIs;

constexpr char kH100[] = "NVIDIA H100 80GB HBM3";

// 200 steps of 10 s and 1 min stages. The run lasts 3 x 60 s of stages,
// 2,000 s of steps and two validations of 100/12 steps each.
constexpr double kRunSeconds = 180 + 2000 + 2 * 10 * 100 / 12.0;

PodSpec Spec(Env extra = {}) {
  PodSpec spec;
  spec.name = "job-1";
  spec.image = "trainyard/lora-trainer:1";
  spec.gpu_type_ids = {"NVIDIA NONEXISTENT", kH100};
  spec.env = {
      {"TRAINYARD_JOB_ID", "job-1"},
      {"TRAINYARD_WEBHOOK_URL", "http://metrics/v1/webhooks/runpod/job-1"},
      {"TRAINYARD_WEBHOOK_SECRET", testing::TestSecret().ToString()},
      {"TRAINYARD_DATASET_CONVERSATIONS", "1000"},
      {"TRAINYARD_BATCH_SIZE", "4"},
      {"TRAINYARD_GRAD_ACCUM", "2"},
      {"TRAINYARD_EPOCHS", "2"},
      {"TRAINYARD_SIM_STEP_SECONDS", "10"},
      {"TRAINYARD_SIM_STAGE_SECONDS", "60"}};
  for (auto& [k, v] : extra) spec.env[k] = v;
  return spec;
}

class CloudTest : public ::testing::Test {
 protected:
  CloudTest()
      : scheduler_(clock_),
        sender_(clock_, clock_, scheduler_, transport_, {.threads = 2}),
        driver_(clock_, scheduler_, sender_) {
    sender_.Start();
    Make({});
  }
  ~CloudTest() override { sender_.Stop(); }

  // A new cloud; earlier ones stay alive since timers of theirs may still
  // be in the scheduler.
  void Make(CloudOptions options) {
    if (cloud_) retired_.push_back(std::move(cloud_));
    cloud_ = std::make_unique<Cloud>(clock_, scheduler_, sender_, options);
  }
  PodView Get(const std::string& id) { return *cloud_->Get(id); }
  bool RunUntilStatus(const std::string& id, PodStatus status,
                      absl::Duration limit = absl::Hours(10)) {
    return driver_.RunUntil([&] { return cloud_->Get(id)->status == status; },
                            limit);
  }
  // The `type` of each webhook body delivered, in order.
  std::vector<std::string> DeliveredTypes() {
    std::vector<std::string> types;
    for (const auto& r : transport_.requests()) {
      size_t at = r.body.find("\"type\":\"") + 8;
      types.push_back(r.body.substr(at, r.body.find('"', at) - at));
    }
    return types;
  }

  FakeClock clock_;
  Scheduler scheduler_;
  ScriptedTransport transport_;
  WebhookSender sender_;
  testing::SimDriver driver_;
  std::vector<std::unique_ptr<Cloud>> retired_;
  std::unique_ptr<Cloud> cloud_;
};

TEST_F(CloudTest, PodGoesFromProvisioningToExitedCompleted) {
  ASSERT_OK_AND_ASSIGN(PodView pod, cloud_->Create(Spec()));
  EXPECT_EQ(pod.id.size(), 14u);
  EXPECT_EQ(pod.status, PodStatus::kProvisioning);
  EXPECT_EQ(pod.desired_status, PodStatus::kRunning);
  EXPECT_EQ(pod.gpu->id, kH100);  // the first known of gpuTypeIds
  EXPECT_DOUBLE_EQ(pod.cost_per_hr, 3.99);
  absl::Time created = clock_.Now();
  ASSERT_TRUE(driver_.RunFor(absl::Seconds(20)));
  EXPECT_EQ(Get(pod.id).status, PodStatus::kStarting);
  ASSERT_TRUE(driver_.RunFor(absl::Seconds(30)));
  PodView running = Get(pod.id);
  EXPECT_EQ(running.status, PodStatus::kRunning);
  EXPECT_EQ(*running.started_at, created + absl::Seconds(50));
  ASSERT_TRUE(running.progress.has_value());

  ASSERT_TRUE(RunUntilStatus(pod.id, PodStatus::kExited));
  PodView done = Get(pod.id);
  EXPECT_EQ(done.exit_reason, ExitReason::kCompleted);
  EXPECT_EQ(done.desired_status, PodStatus::kExited);
  EXPECT_EQ(done.progress->step, 200);
  EXPECT_EQ(done.webhooks_pending, 0u);
  // Every event was delivered once, in order, before the pod exited.
  std::vector<std::string> ids = transport_.ids();
  ASSERT_EQ(static_cast<int64_t>(ids.size()), done.progress->events);
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_EQ(ids[i], absl::StrCat("evt_1_", i + 1));
  }
  EXPECT_EQ(DeliveredTypes().back(), "info");  // "Training complete: ..."
  EXPECT_NEAR(absl::ToDoubleSeconds(*done.exited_at - *done.started_at),
              kRunSeconds, 1);
}

TEST_F(CloudTest, ExitWaitsForWebhooksUpToTheFlushTimeout) {
  transport_.SetAnswer([](const auto&, int) { return testing::Status(503); });
  ASSERT_OK_AND_ASSIGN(PodView pod, cloud_->Create(Spec()));
  ASSERT_TRUE(RunUntilStatus(pod.id, PodStatus::kExited));
  PodView done = Get(pod.id);
  EXPECT_EQ(done.exit_reason, ExitReason::kCompleted);
  // The run lasts kRunLength; then the pod waited 10 min for its webhooks.
  EXPECT_NEAR(absl::ToDoubleSeconds(*done.exited_at - *done.started_at),
              kRunSeconds + 600, 1);
  EXPECT_EQ(sender_.Stats().delivered, 0);
  EXPECT_EQ(sender_.Stats().dropped, done.progress->events);
}

TEST_F(CloudTest, StopCheckpointsThenExits) {
  ASSERT_OK_AND_ASSIGN(PodView pod, cloud_->Create(Spec()));
  ASSERT_TRUE(driver_.RunUntil(
      [&] { return Get(pod.id).progress && Get(pod.id).progress->step >= 37; },
      absl::Hours(1)));
  ASSERT_OK_AND_ASSIGN(PodView stopping, cloud_->Stop(pod.id));
  EXPECT_EQ(stopping.desired_status, PodStatus::kExited);
  ASSERT_TRUE(RunUntilStatus(pod.id, PodStatus::kExited, absl::Minutes(1)));
  PodView stopped = Get(pod.id);
  EXPECT_EQ(stopped.exit_reason, ExitReason::kStopped);
  EXPECT_EQ(stopped.progress->last_checkpoint_step, 37);
  std::vector<std::string> types = DeliveredTypes();
  ASSERT_GE(types.size(), 2u);
  EXPECT_EQ(types[types.size() - 2], "checkpoint");
  EXPECT_THAT(transport_.requests()[types.size() - 2].body,
              HasSubstr("\"checkpoint\":{\"step\":37,"));
  // Stopping again changes nothing.
  EXPECT_OK(cloud_->Stop(pod.id).status());
  EXPECT_EQ(DeliveredTypes().size(), types.size());
}

TEST_F(CloudTest, StopBeforeRunningExitsAtOnce) {
  ASSERT_OK_AND_ASSIGN(PodView pod, cloud_->Create(Spec()));
  ASSERT_OK_AND_ASSIGN(PodView stopped, cloud_->Stop(pod.id));
  EXPECT_EQ(stopped.status, PodStatus::kExited);
  EXPECT_EQ(stopped.exit_reason, ExitReason::kStopped);
  ASSERT_TRUE(driver_.RunFor(absl::Hours(1)));
  EXPECT_EQ(Get(pod.id).status, PodStatus::kExited);
  EXPECT_TRUE(transport_.requests().empty());
}

TEST_F(CloudTest, TerminateIsIdempotentAndFinal) {
  ASSERT_OK_AND_ASSIGN(PodView pod, cloud_->Create(Spec()));
  ASSERT_TRUE(RunUntilStatus(pod.id, PodStatus::kRunning));
  ASSERT_OK(cloud_->Terminate(pod.id));
  PodView gone = Get(pod.id);
  EXPECT_EQ(gone.status, PodStatus::kTerminated);
  EXPECT_EQ(gone.desired_status, PodStatus::kTerminated);
  EXPECT_TRUE(gone.terminated_at.has_value());
  size_t sent = transport_.requests().size();
  ASSERT_TRUE(driver_.RunFor(absl::Hours(2)));
  EXPECT_EQ(transport_.requests().size(), sent);  // the container is gone
  EXPECT_OK(cloud_->Terminate(pod.id));
  EXPECT_THAT(cloud_->Stop(pod.id),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(cloud_->Get("nope"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cloud_->Stop("nope"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(cloud_->Terminate("nope"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CloudTest, PodLimitCountsPodsHoldingGpus) {
  Make({.max_pods = 2});
  ASSERT_OK_AND_ASSIGN(PodView a, cloud_->Create(Spec()));
  ASSERT_OK(cloud_->Create(Spec()).status());
  EXPECT_THAT(
      cloud_->Create(Spec()),
      StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("pod limit")));
  ASSERT_OK(cloud_->Stop(a.id).status());  // EXITED frees the GPU
  EXPECT_OK(cloud_->Create(Spec()).status());
  EXPECT_EQ(cloud_->Counts().active, 2);
  EXPECT_EQ(cloud_->List().size(), 3u);
}

TEST_F(CloudTest, InjectedSlowAndFailingTermination) {
  ASSERT_OK_AND_ASSIGN(
      PodView pod,
      cloud_->Create(Spec({{"TRAINYARD_FAULT_TERMINATE_FAILURES", "2"},
                           {"TRAINYARD_FAULT_TERMINATE_DELAY", "90s"}})));
  ASSERT_TRUE(RunUntilStatus(pod.id, PodStatus::kRunning));
  EXPECT_THAT(cloud_->Stop(pod.id), StatusIs(absl::StatusCode::kInternal));
  EXPECT_THAT(cloud_->Terminate(pod.id), StatusIs(absl::StatusCode::kInternal));
  ASSERT_OK(cloud_->Stop(pod.id).status());
  ASSERT_TRUE(driver_.RunFor(absl::Seconds(89)));
  EXPECT_EQ(Get(pod.id).status, PodStatus::kRunning);
  EXPECT_EQ(Get(pod.id).desired_status, PodStatus::kExited);
  ASSERT_TRUE(RunUntilStatus(pod.id, PodStatus::kExited, absl::Seconds(2)));
  EXPECT_EQ(Get(pod.id).exit_reason, ExitReason::kStopped);
  // Terminate is delayed the same way.
  ASSERT_OK(cloud_->Terminate(pod.id));
  EXPECT_EQ(Get(pod.id).status, PodStatus::kExited);
  ASSERT_TRUE(
      RunUntilStatus(pod.id, PodStatus::kTerminated, absl::Seconds(91)));
}

TEST_F(CloudTest, SpotInterruptionFromTheAdminEndpoint) {
  PodSpec spec = Spec();
  spec.interruptible = true;
  ASSERT_OK_AND_ASSIGN(PodView pod, cloud_->Create(spec));
  EXPECT_DOUBLE_EQ(pod.cost_per_hr, 2.49);
  ASSERT_TRUE(driver_.RunUntil(
      [&] { return Get(pod.id).progress && Get(pod.id).progress->step >= 10; },
      absl::Hours(1)));
  ASSERT_OK(cloud_->Interrupt(pod.id).status());
  ASSERT_TRUE(RunUntilStatus(pod.id, PodStatus::kExited, absl::Minutes(1)));
  EXPECT_EQ(Get(pod.id).exit_reason, ExitReason::kInterrupted);
  EXPECT_EQ(DeliveredTypes().back(), "warning");
  EXPECT_THAT(cloud_->Interrupt(pod.id),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(CloudTest, SpotKillLosesWhatWasNotDeliveredInTheGracePeriod) {
  ASSERT_OK_AND_ASSIGN(PodView pod, cloud_->Create(Spec()));
  ASSERT_TRUE(RunUntilStatus(pod.id, PodStatus::kRunning));
  transport_.SetAnswer([](const auto&, int) { return testing::Status(503); });
  ASSERT_OK(cloud_->Interrupt(pod.id).status());
  ASSERT_TRUE(driver_.RunFor(absl::Seconds(4)));
  EXPECT_EQ(Get(pod.id).status, PodStatus::kRunning);
  ASSERT_TRUE(RunUntilStatus(pod.id, PodStatus::kExited, absl::Seconds(2)));
  EXPECT_EQ(Get(pod.id).exit_reason, ExitReason::kInterrupted);
  EXPECT_GT(sender_.Stats().dropped, 0);
}

TEST_F(CloudTest, FaultsFromTheAdminEndpointAndFromFlags) {
  ASSERT_OK_AND_ASSIGN(PodView pod, cloud_->Create(Spec()));
  ASSERT_OK(cloud_
                ->SetFaults(pod.id, {{"fail_at", "training:10"},
                                     {"fail_code", "CUDA_OOM"}})
                .status());
  EXPECT_THAT(cloud_->SetFaults(pod.id, {{"melt", "now"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("melt")));
  ASSERT_TRUE(RunUntilStatus(pod.id, PodStatus::kExited));
  PodView failed = Get(pod.id);
  EXPECT_EQ(failed.exit_reason, ExitReason::kFailed);
  EXPECT_THAT(failed.exit_message, HasSubstr("CUDA out of memory"));
  EXPECT_EQ(DeliveredTypes().back(), "error");
  EXPECT_EQ(failed.progress->step, 19);

  CloudOptions options;
  ASSERT_OK(options.faults.Set("stall_at", "model_loading"));
  Make(options);
  ASSERT_OK_AND_ASSIGN(PodView stalled, cloud_->Create(Spec()));
  ASSERT_TRUE(driver_.RunFor(absl::Hours(5)));
  EXPECT_TRUE(Get(stalled.id).progress->stalled);
  EXPECT_EQ(Get(stalled.id).status, PodStatus::kRunning);
}

TEST_F(CloudTest, BadSpecsNameTheField) {
  auto field = [&](PodSpec spec) {
    absl::StatusOr<PodView> r = cloud_->Create(std::move(spec));
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument));
    std::vector<FieldViolation> v = FieldViolations(r.status());
    return v.empty() ? std::string() : v[0].field;
  };
  PodSpec s = Spec();
  s.image.clear();
  EXPECT_EQ(field(s), "imageName");
  s = Spec();
  s.gpu_type_ids = {"NVIDIA GeForce 256"};
  EXPECT_EQ(field(s), "gpuTypeIds");
  s = Spec();
  s.gpu_count = 9;
  EXPECT_EQ(field(s), "gpuCount");
  EXPECT_EQ(field(Spec({{"TRAINYARD_LORA_RANK", "-1"}})),
            "env.TRAINYARD_LORA_RANK");
  EXPECT_EQ(field(Spec({{"TRAINYARD_FAULT_FAIL_AT", "soon"}})),
            "env.TRAINYARD_FAULT_FAIL_AT");
  EXPECT_TRUE(cloud_->List().empty());
}

// With a state file (cloud.h "Persistence"): gpusim killed and started
// again is a new Cloud restored from the file; the old one is never saved
// again, so its held webhooks never go out (its retries of already saved ones
// may, with the same ids and bodies).
class PersistentCloudTest : public CloudTest {
 protected:
  PersistentCloudTest() : state_(dir_.Sub("state")) {
    Make({.state = &state_});
  }

  void Restart() {
    ASSERT_OK_AND_ASSIGN(std::vector<PodRecord> saved, state_.Load());
    Make({.state = &state_});
    ASSERT_OK(cloud_->Restore(std::move(saved)));
    ASSERT_OK(cloud_->Persist());
  }

  // Plays `d` in slices, saving after each, as gpusim's saver does.
  void RunSaving(absl::Duration d) {
    for (absl::Duration done; done < d; done += absl::Seconds(30)) {
      ASSERT_TRUE(driver_.RunFor(absl::Seconds(30)));
      ASSERT_OK(cloud_->Persist());
    }
  }

  ::trainyard::testing::TempDir dir_;
  StateFile state_;
};

TEST_F(PersistentCloudTest, WebhooksWaitForTheSaveThatHoldsThem) {
  ASSERT_OK_AND_ASSIGN(PodView pod, cloud_->Create(Spec()));
  ASSERT_TRUE(driver_.RunFor(absl::Minutes(3)));
  size_t held = Get(pod.id).webhooks_pending;
  EXPECT_GT(held, 0u);
  EXPECT_TRUE(transport_.requests().empty());
  ASSERT_OK(cloud_->Persist());
  ASSERT_TRUE(driver_.RunFor(absl::ZeroDuration()));
  EXPECT_EQ(transport_.requests().size(), held);
  ASSERT_OK_AND_ASSIGN(std::vector<PodRecord> saved, state_.Load());
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].container->seq, static_cast<int64_t>(held));
}

TEST_F(PersistentCloudTest, RestartResendsWhatWasUnansweredAndKeepsTheSeq) {
  std::atomic<bool> refuse = false;
  transport_.SetAnswer(
      [&](const auto&, int) { return testing::Status(refuse ? 503 : 200); });
  ASSERT_OK_AND_ASSIGN(
      PodView pod,
      cloud_->Create(Spec({{"TRAINYARD_CHECKPOINT_EVERY", "20"}})));
  ASSERT_NO_FATAL_FAILURE(RunSaving(absl::Minutes(11)));  // step ~48
  refuse = true;  // the receiver is down: saved webhooks stay unanswered
  ASSERT_NO_FATAL_FAILURE(RunSaving(absl::Minutes(2)));
  PodView before = Get(pod.id);
  ASSERT_EQ(before.progress->stage, Stage::kTraining);
  EXPECT_GT(before.webhooks_pending, 0u);                 // saved, unanswered
  ASSERT_NO_FATAL_FAILURE(RunSaving(absl::Seconds(25)));  // made, not saved

  ASSERT_NO_FATAL_FAILURE(Restart());
  refuse = false;
  PodView after = Get(pod.id);
  EXPECT_EQ(after.status, PodStatus::kRunning);
  EXPECT_EQ(after.progress->attempt, 1);
  EXPECT_EQ(after.progress->step, before.progress->last_checkpoint_step);
  for (int i = 0; i < 200 && Get(pod.id).status != PodStatus::kExited; ++i) {
    ASSERT_NO_FATAL_FAILURE(RunSaving(absl::Seconds(30)));
  }
  PodView done = Get(pod.id);
  EXPECT_EQ(done.exit_reason, ExitReason::kCompleted);
  EXPECT_EQ(done.progress->step, 200);

  // Every id has one body; the ids are evt_1_1..evt_1_N without a gap.
  std::map<std::string, std::string> bodies;
  for (const auto& r : transport_.requests()) {
    auto [it, inserted] = bodies.emplace(r.id, r.body);
    EXPECT_EQ(it->second, r.body) << r.id;
  }
  EXPECT_EQ(static_cast<int64_t>(bodies.size()), done.progress->events);
  for (int64_t seq = 1; seq <= done.progress->events; ++seq) {
    EXPECT_TRUE(bodies.contains(absl::StrCat("evt_1_", seq))) << seq;
  }
}

TEST_F(PersistentCloudTest, PendingTimersAndRequestsComeBack) {
  ASSERT_OK_AND_ASSIGN(PodView provisioning, cloud_->Create(Spec()));
  ASSERT_OK_AND_ASSIGN(
      PodView slow,
      cloud_->Create(Spec({{"TRAINYARD_FAULT_TERMINATE_DELAY", "10m"}})));
  ASSERT_TRUE(driver_.RunFor(absl::Seconds(5)));
  ASSERT_OK(cloud_->Terminate(slow.id));
  absl::Time created = provisioning.created_at;
  ASSERT_NO_FATAL_FAILURE(Restart());
  EXPECT_EQ(Get(slow.id).status, PodStatus::kTerminated);  // at once
  EXPECT_EQ(Get(provisioning.id).status, PodStatus::kProvisioning);
  ASSERT_TRUE(driver_.RunUntil(
      [&] { return Get(provisioning.id).status == PodStatus::kStarting; },
      absl::Minutes(1)));
  // The rest of its 20 s, not 20 s more.
  EXPECT_EQ(clock_.Now(), created + absl::Seconds(20));
}

TEST_F(PersistentCloudTest, NoSaveWhenNothingChanged) {
  ASSERT_OK_AND_ASSIGN(PodView pod, cloud_->Create(Spec()));
  ASSERT_OK(cloud_->Stop(pod.id));
  ASSERT_TRUE(RunUntilStatus(pod.id, PodStatus::kExited));
  ASSERT_OK(cloud_->Persist(/*only_if_changed=*/true));
  std::remove(state_.path().c_str());
  ASSERT_OK(cloud_->Persist(/*only_if_changed=*/true));
  EXPECT_THAT(state_.Load(), IsOkAndHolds(::testing::IsEmpty()));
  ASSERT_OK(cloud_->Persist());
  EXPECT_THAT(state_.Load(), IsOkAndHolds(::testing::SizeIs(1)));
}

TEST_F(PersistentCloudTest, AnEnvValueThatIsNotUtf8IsSavedReplaced) {
  PodRecord pod;
  pod.id = "pod-1";
  pod.spec.name = "p";
  pod.spec.env["NOTE"] = "caf\xe9";  // Latin-1, as a client might send it
  ASSERT_OK(state_.Save({pod}));
  ASSERT_OK_AND_ASSIGN(std::vector<PodRecord> saved, state_.Load());
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].spec.env.at("NOTE"), "caf\xef\xbf\xbd");  // U+FFFD
}

TEST_F(PersistentCloudTest, AFileThatIsNotGpusimStateIsNamed) {
  ASSERT_OK(cloud_->Persist());
  std::ofstream(state_.path()) << "{\"version\": 1, \"pods\": [{\"id\": 3}]}";
  EXPECT_THAT(state_.Load(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(state_.path())));
}

}  // namespace
}  // namespace trainyard::gpusim
