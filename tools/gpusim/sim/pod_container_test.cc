// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/pod_container.h"

#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace trainyard::gpusim {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1764385200);

// 1,000 conversations, batch 4 x 2: 100 steps per epoch, 2 epochs; 10 s per
// step and 1 min per other stage, so runs are short and exact.
TrainingConfig TestConfig() {
  TrainingConfig c;
  c.job_id = "job-1";
  c.webhook_url = "http://127.0.0.1:1/v1/webhooks/runpod/job-1";
  c.webhook_secret = "whsec_c2VjcmV0";
  c.base_model = "meta-llama/Meta-Llama-3-70B";
  c.dataset_conversations = 1000;
  c.batch_size = 4;
  c.grad_accum = 2;
  c.epochs = 2;
  c.step_time = absl::Seconds(10);
  c.stage_time = absl::Minutes(1);
  return c;
}

class PodContainerTest : public ::testing::Test {
 protected:
  std::unique_ptr<PodContainer> Make(TrainingConfig config = TestConfig(),
                                     FaultPlan faults = {},
                                     bool interruptible = false) {
    return std::make_unique<PodContainer>(std::move(config), std::move(faults),
                                          *FindGpuType("NVIDIA H100 80GB HBM3"),
                                          1, interruptible, /*seed=*/9);
  }

  // Plays the container until it ends or `until` passes; returns its events.
  std::vector<PodEvent> Play(PodContainer& c,
                             absl::Time until = absl::InfiniteFuture()) {
    std::vector<PodEvent> events;
    absl::Time next = c.Start(kStart, &events);
    while (!c.finished() && next != absl::InfiniteFuture() && next <= until) {
      next = c.Wake(next, &events);
    }
    return events;
  }

  static std::vector<std::string> Substatuses(
      const std::vector<PodEvent>& events, std::string_view stage) {
    std::vector<std::string> out;
    for (const PodEvent& e : events) {
      if (e.status && e.status->stage == stage &&
          (out.empty() || out.back() != e.status->substatus)) {
        out.push_back(e.status->substatus);
      }
    }
    return out;
  }

  static std::vector<const PodEvent*> OfType(
      const std::vector<PodEvent>& events, EventType type) {
    std::vector<const PodEvent*> out;
    for (const PodEvent& e : events) {
      if (e.type == type) out.push_back(&e);
    }
    return out;
  }
};

TEST_F(PodContainerTest, FullRunGoesThroughTheFourStages) {
  auto c = Make();
  std::vector<PodEvent> events = Play(*c);
  ASSERT_TRUE(c->finished());
  EXPECT_EQ(c->exit_reason(), ExitReason::kCompleted);
  // seq 1..n without gaps, times never going back.
  for (size_t i = 0; i < events.size(); ++i) {
    ASSERT_EQ(events[i].seq, static_cast<int64_t>(i + 1));
    ASSERT_EQ(events[i].attempt, 1);
    if (i > 0) {
      ASSERT_GE(events[i].time, events[i - 1].time);
      // Never silent longer than the status interval, validation included
      // (metrics-ingest would flag the job stalled).
      EXPECT_LE(events[i].time - events[i - 1].time, absl::Seconds(30)) << i;
    }
  }
  EXPECT_EQ(events.front().time, kStart);
  EXPECT_THAT(Substatuses(events, "preprocessing"),
              testing::ElementsAre("Downloading training file from storage...",
                                   "Parsing 1000 conversations...",
                                   "Tokenizing text with Llama 3 tokenizer...",
                                   "Creating train/validation split (80/20)...",
                                   "Validating dataset format..."));
  EXPECT_THAT(Substatuses(events, "model_loading"),
              Contains("Downloading Llama 3 70B from Hugging Face Hub..."));
  EXPECT_THAT(Substatuses(events, "finalization"),
              testing::ElementsAre("Saving LoRA adapters to storage...",
                                   "Uploading adapter_model.bin (395MB)...",
                                   "Uploading adapter_config.json...",
                                   "Calculating final metrics...",
                                   "Generating training summary...",
                                   "Cleaning up temporary files..."));
  std::vector<std::string> training = Substatuses(events, "training");
  EXPECT_EQ(training.front(), "Training epoch 1/2 - Step 0/200...");
  EXPECT_THAT(training, Contains("Training epoch 1/2 - Step 50/200..."));
  EXPECT_THAT(training, Contains("Running validation..."));
  EXPECT_THAT(training, Contains(HasSubstr("Epoch 2 complete - Avg loss: ")));

  // One training metrics event per step, then one validation per epoch.
  std::vector<const PodEvent*> metrics = OfType(events, EventType::kMetrics);
  ASSERT_EQ(metrics.size(), 202u);
  int64_t step = 0;
  int validations = 0;
  for (const PodEvent* e : metrics) {
    const MetricsPayload& m = *e->metrics;
    EXPECT_EQ(m.total_steps, 200);
    EXPECT_EQ(m.total_epochs, 2);
    if (m.val_loss) {
      ++validations;
      EXPECT_EQ(m.step % 100, 0);
      EXPECT_NEAR(*m.perplexity, std::exp(*m.val_loss), 1e-9);
      EXPECT_FALSE(m.train_loss.has_value());
      continue;
    }
    EXPECT_EQ(m.step, ++step);
    EXPECT_EQ(m.epoch, step <= 100 ? 1 : 2);
    EXPECT_EQ(e->message, absl::StrCat("Training epoch ", m.epoch, "/2 - Step ",
                                       step, "/200..."));
    EXPECT_GT(*m.train_loss, 0);
    EXPECT_GE(*m.gpu_utilization, 0.45);
    EXPECT_LE(*m.gpu_utilization, 0.95);
    EXPECT_EQ(*m.gpu_memory_total_bytes, int64_t{80} << 30);
    EXPECT_EQ(m.lr_schedule, "cosine");
  }
  EXPECT_EQ(validations, 2);
  // A checkpoint every 100 steps.
  std::vector<const PodEvent*> checkpoints =
      OfType(events, EventType::kCheckpoint);
  ASSERT_EQ(checkpoints.size(), 2u);
  EXPECT_EQ(checkpoints[0]->checkpoint->step, 100);
  EXPECT_EQ(checkpoints[0]->checkpoint->uri,
            "s3://trainyard-artifacts/job-1/ckpt-100");
  EXPECT_EQ(checkpoints[0]->message, "Checkpoint saved at step 100");
  EXPECT_EQ(checkpoints[1]->checkpoint->step, 200);
  // Steps take 10 s: the first metrics event comes 10 s after training began.
  EXPECT_EQ(metrics[1]->time - metrics[0]->time, absl::Seconds(10));
}

// A zero status interval (allowed: no heartbeats) still runs to the end.
TEST_F(PodContainerTest, ZeroStatusIntervalStillFinishes) {
  ContainerOptions options;
  options.status_interval = absl::ZeroDuration();
  PodContainer c(TestConfig(), {}, *FindGpuType("NVIDIA H100 80GB HBM3"), 1,
                 /*interruptible=*/false, /*seed=*/9, options);
  std::vector<PodEvent> events = Play(c);
  EXPECT_TRUE(c.finished());
  EXPECT_EQ(c.exit_reason(), ExitReason::kCompleted);
  EXPECT_LT(events.size(), 1000u);
}

TEST_F(PodContainerTest, SameSeedSameRun) {
  auto a = Make();
  auto b = Make();
  std::vector<PodEvent> ea = Play(*a);
  std::vector<PodEvent> eb = Play(*b);
  ASSERT_EQ(ea.size(), eb.size());
  for (size_t i = 0; i < ea.size(); ++i) {
    ASSERT_EQ(EventBody(ea[i]), EventBody(eb[i]));
  }
}

TEST_F(PodContainerTest, TerminateCheckpointsAtTheCurrentStep) {
  auto c = Make();
  // 2 min of stages, then 10 s per step: step 42 at 2 min + 420 s.
  std::vector<PodEvent> events =
      Play(*c, kStart + absl::Minutes(2) + absl::Seconds(425));
  ASSERT_FALSE(c->finished());
  EXPECT_EQ(c->progress().step, 42);
  EXPECT_EQ(c->progress().stage, Stage::kTraining);
  size_t before = events.size();
  c->Terminate(kStart + absl::Minutes(2) + absl::Seconds(425), &events);
  EXPECT_EQ(c->exit_reason(), ExitReason::kStopped);
  ASSERT_EQ(events.size(), before + 2);
  EXPECT_EQ(events[before].type, EventType::kCheckpoint);
  EXPECT_EQ(events[before].checkpoint->step, 42);
  EXPECT_EQ(events[before + 1].type, EventType::kInfo);
  EXPECT_THAT(events[before + 1].message, HasSubstr("SIGTERM"));
  // Nothing more happens once stopped.
  EXPECT_EQ(c->Wake(kStart + absl::Hours(10), &events), absl::InfiniteFuture());
  c->Terminate(kStart + absl::Hours(10), &events);
  EXPECT_EQ(events.size(), before + 2);
}

TEST_F(PodContainerTest, TerminateBeforeTrainingHasNothingToCheckpoint) {
  auto c = Make();
  std::vector<PodEvent> events = Play(*c, kStart + absl::Seconds(30));
  c->Terminate(kStart + absl::Seconds(30), &events);
  EXPECT_EQ(c->exit_reason(), ExitReason::kStopped);
  EXPECT_TRUE(OfType(events, EventType::kCheckpoint).empty());
  EXPECT_THAT(events.back().message, HasSubstr("during preprocessing"));
}

// webhooks.md "Completion": the last STATUS before a successful exit is
// finalization at 100%, whatever the stage timing.
TEST_F(PodContainerTest, LastStatusBeforeCompletionIsFinalizationAt100) {
  for (absl::Duration stage_time : {absl::Minutes(1), absl::ZeroDuration()}) {
    TrainingConfig config = TestConfig();
    config.stage_time = stage_time;
    auto c = Make(config);
    std::vector<PodEvent> events = Play(*c);
    ASSERT_EQ(c->exit_reason(), ExitReason::kCompleted);
    const PodEvent* last_status = nullptr;
    for (const PodEvent& e : events) {
      if (e.status) last_status = &e;
    }
    ASSERT_NE(last_status, nullptr);
    EXPECT_EQ(last_status->type, EventType::kStatus);
    EXPECT_EQ(last_status->status->stage, "finalization");
    ASSERT_TRUE(last_status->status->stage_progress.has_value());
    EXPECT_DOUBLE_EQ(*last_status->status->stage_progress, 100);
  }
}

// Issue 10 item 6: interrupted before its first checkpoint, the next attempt
// starts over and says so, so the recovery closes at "resumed from step 0".
TEST_F(PodContainerTest, LaterAttemptFromStepZeroReportsResumedFromZero) {
  TrainingConfig config = TestConfig();
  config.attempt = 2;
  auto c = Make(config);
  std::vector<PodEvent> events = Play(*c);
  const PodEvent* resumed = nullptr;
  for (const PodEvent& e : events) {
    if (e.status && e.status->resumed_from_step) {
      resumed = &e;
      break;
    }
  }
  ASSERT_NE(resumed, nullptr);
  EXPECT_EQ(*resumed->status->resumed_from_step, 0);
  EXPECT_EQ(resumed->status->substatus, "\u2713 Resumed from step 0");
  EXPECT_EQ(resumed->status->stage, "training");
  std::vector<const PodEvent*> metrics = OfType(events, EventType::kMetrics);
  EXPECT_EQ(metrics.front()->metrics->step, 1);
  // A first attempt has nothing to resume from.
  auto first = Make();
  for (const PodEvent& e : Play(*first)) {
    ASSERT_FALSE(e.status && e.status->resumed_from_step);
  }
}

TEST_F(PodContainerTest, ResumeContinuesFromTheStepWithTheNextAttempt) {
  TrainingConfig config = TestConfig();
  config.resume_step = 42;
  config.attempt = 2;
  auto c = Make(config);
  std::vector<PodEvent> events = Play(*c);
  EXPECT_EQ(c->exit_reason(), ExitReason::kCompleted);
  for (const PodEvent& e : events) ASSERT_EQ(e.attempt, 2);
  EXPECT_EQ(events[0].seq, 1);
  // Cached model on a later attempt.
  EXPECT_THAT(Substatuses(events, "model_loading"),
              Contains("Loading model from cache..."));
  const PodEvent* resumed = nullptr;
  for (const PodEvent& e : events) {
    if (e.status && e.status->resumed_from_step) {
      resumed = &e;
      break;
    }
  }
  ASSERT_NE(resumed, nullptr);
  EXPECT_EQ(*resumed->status->resumed_from_step, 42);
  EXPECT_EQ(resumed->status->substatus, "\u2713 Resumed from step 42");
  EXPECT_EQ(resumed->status->stage, "training");
  EXPECT_DOUBLE_EQ(*resumed->status->stage_progress, 21);
  std::vector<const PodEvent*> metrics = OfType(events, EventType::kMetrics);
  EXPECT_EQ(metrics.front()->metrics->step, 43);
  EXPECT_EQ(metrics.size(), 158u + 2);  // steps 43..200 and 2 validations
  // The curve continues: same shape as an uninterrupted run.
  auto fresh = Make();
  std::vector<PodEvent> uninterrupted = Play(*fresh);
  double resumed_loss = *metrics.front()->metrics->train_loss;
  double fresh_loss =
      *OfType(uninterrupted, EventType::kMetrics)[43 - 1]->metrics->train_loss;
  EXPECT_NEAR(resumed_loss, fresh_loss, fresh_loss * 0.5);
}

TEST_F(PodContainerTest, StopWhileLoadingAResumedRunReReportsItsCheckpoint) {
  TrainingConfig config = TestConfig();
  config.resume_step = 100;
  config.attempt = 2;
  auto c = Make(config);
  std::vector<PodEvent> events = Play(*c, kStart + absl::Seconds(90));
  c->Terminate(kStart + absl::Seconds(90), &events);
  std::vector<const PodEvent*> checkpoints =
      OfType(events, EventType::kCheckpoint);
  ASSERT_EQ(checkpoints.size(), 1u);
  EXPECT_EQ(checkpoints[0]->checkpoint->step, 100);
}

TEST_F(PodContainerTest, FailAtTrainingReportsCudaOom) {
  FaultPlan faults;
  faults.fail_at = FaultPoint{Stage::kTraining, 50};
  auto c = Make(TestConfig(), faults);
  std::vector<PodEvent> events = Play(*c);
  EXPECT_EQ(c->exit_reason(), ExitReason::kFailed);
  EXPECT_THAT(c->exit_message(), HasSubstr("CUDA out of memory"));
  const PodEvent& last = events.back();
  ASSERT_EQ(last.type, EventType::kError);
  EXPECT_EQ(last.error->code, "CUDA_OOM");
  EXPECT_THAT(last.message, HasSubstr("Failed: CUDA out of memory"));
  EXPECT_THAT(last.error->details, HasSubstr("step 100"));
  // Steps 1..99 were reported, step 100 failed.
  EXPECT_EQ(c->progress().step, 99);
}

TEST_F(PodContainerTest, FailAtAStageAfterItsStatus) {
  FaultPlan faults;
  faults.fail_at = FaultPoint{Stage::kModelLoading, 60};
  faults.fail_code = "MODEL_LOAD_FAILED";
  faults.fail_message = "checksum mismatch";
  auto c = Make(TestConfig(), faults);
  std::vector<PodEvent> events = Play(*c);
  EXPECT_EQ(c->exit_reason(), ExitReason::kFailed);
  ASSERT_GE(events.size(), 2u);
  const PodEvent& status = events[events.size() - 2];
  EXPECT_EQ(status.status->stage, "model_loading");
  EXPECT_EQ(status.status->substatus, "Applying 4-bit quantization (QLoRA)...");
  EXPECT_EQ(events.back().error->code, "MODEL_LOAD_FAILED");
}

TEST_F(PodContainerTest, StallGoesSilentThenCarriesOn) {
  FaultPlan faults;
  faults.stall_at = FaultPoint{Stage::kTraining, 25};
  faults.stall_for = absl::Minutes(20);
  auto c = Make(TestConfig(), faults);
  std::vector<PodEvent> events = Play(*c);
  EXPECT_EQ(c->exit_reason(), ExitReason::kCompleted);
  absl::Duration longest;
  for (size_t i = 1; i < events.size(); ++i) {
    longest = std::max(longest, events[i].time - events[i - 1].time);
  }
  EXPECT_GE(longest, absl::Minutes(20));
  EXPECT_LT(longest, absl::Minutes(21));
}

TEST_F(PodContainerTest, StallForeverUntilStopped) {
  FaultPlan faults;
  faults.stall_at = FaultPoint{Stage::kTraining, 10};
  auto c = Make(TestConfig(), faults);
  std::vector<PodEvent> events = Play(*c);
  EXPECT_FALSE(c->finished());
  EXPECT_TRUE(c->progress().stalled);
  EXPECT_EQ(c->progress().step, 19);
  EXPECT_EQ(c->Wake(kStart + absl::Hours(100), &events),
            absl::InfiniteFuture());
  c->Terminate(kStart + absl::Hours(100), &events);
  EXPECT_EQ(c->exit_reason(), ExitReason::kStopped);
  EXPECT_EQ(OfType(events, EventType::kCheckpoint).back()->checkpoint->step,
            19);
}

TEST_F(PodContainerTest, SpotInterruptionOnlyForInterruptiblePods) {
  FaultPlan faults;
  faults.spot_at = FaultPoint{Stage::kTraining, 60};
  auto on_demand = Make(TestConfig(), faults, /*interruptible=*/false);
  Play(*on_demand);
  EXPECT_EQ(on_demand->exit_reason(), ExitReason::kCompleted);

  auto spot = Make(TestConfig(), faults, /*interruptible=*/true);
  std::vector<PodEvent> events = Play(*spot);
  EXPECT_EQ(spot->exit_reason(), ExitReason::kInterrupted);
  EXPECT_EQ(events.back().type, EventType::kWarning);
  EXPECT_THAT(events.back().message,
              HasSubstr("Spot instance interrupted during training at step "
                        "119"));
  EXPECT_THAT(events.back().message, HasSubstr("last checkpoint: step 100"));
}

TEST_F(PodContainerTest, SpotInterruptionsPerHour) {
  FaultPlan faults;
  faults.spot_per_hour = 1.0;  // certain within the first hour
  auto c = Make(TestConfig(), faults, /*interruptible=*/true);
  Play(*c);
  EXPECT_EQ(c->exit_reason(), ExitReason::kInterrupted);
  faults.spot_per_hour = 0;
  auto never = Make(TestConfig(), faults, /*interruptible=*/true);
  Play(*never);
  EXPECT_EQ(never->exit_reason(), ExitReason::kCompleted);
}

TEST_F(PodContainerTest, DivergenceReportsNaN) {
  FaultPlan faults;
  faults.nan_at = FaultPoint{Stage::kTraining, 90};
  auto c = Make(TestConfig(), faults);
  std::vector<PodEvent> events = Play(*c);
  EXPECT_EQ(c->exit_reason(), ExitReason::kCompleted);
  std::vector<const PodEvent*> metrics = OfType(events, EventType::kMetrics);
  const PodEvent* at179 = nullptr;
  const PodEvent* at180 = nullptr;
  for (const PodEvent* e : metrics) {
    if (e->metrics->step == 179 && e->metrics->train_loss) at179 = e;
    if (e->metrics->step == 180 && e->metrics->train_loss) at180 = e;
  }
  ASSERT_TRUE(at179 && at180);
  EXPECT_TRUE(std::isfinite(*at179->metrics->train_loss));
  EXPECT_TRUE(std::isnan(*at180->metrics->train_loss));
  EXPECT_NE(EventBody(*at180).find("\"trainLoss\":\"NaN\""), std::string::npos);
}

TEST_F(PodContainerTest, FaultsCanChangeWhileRunning) {
  auto c = Make();
  std::vector<PodEvent> events = Play(*c, kStart + absl::Minutes(4));
  FaultPlan faults;
  faults.fail_at = FaultPoint{Stage::kTraining, 30};
  c->SetFaults(faults);
  absl::Time next = c->Wake(kStart + absl::Minutes(4), &events);
  while (!c->finished()) next = c->Wake(next, &events);
  EXPECT_EQ(c->exit_reason(), ExitReason::kFailed);
  EXPECT_EQ(c->progress().step, 59);
}

// gpusim restarted: the container comes back from its snapshot, in the same
// attempt, its seq continuing, training back at its last checkpoint.
TEST_F(PodContainerTest, RestartContinuesTheAttemptFromTheLastCheckpoint) {
  // 2 min of other stages, then 10 s per step: step ~57 at +695 s.
  TrainingConfig config = TestConfig();
  config.checkpoint_every = 20;
  auto first = Make(config);
  std::vector<PodEvent> before =
      Play(*first, kStart + absl::Seconds(120 + 575));
  ContainerSnapshot snap = first->Snapshot();
  ASSERT_EQ(snap.stage, Stage::kTraining);
  ASSERT_GT(snap.step % 20, 0) << "between two checkpoints";
  const int64_t checkpoint = snap.step / 20 * 20;
  EXPECT_EQ(snap.last_checkpoint_step, checkpoint);
  EXPECT_EQ(snap.seq, static_cast<int64_t>(before.size()));

  auto again = Make(config);
  again->Restore(snap);
  EXPECT_FALSE(again->finished());
  std::vector<PodEvent> after;
  absl::Time restart = kStart + absl::Hours(1);
  absl::Time next = again->Restart(restart, &after);
  while (!again->finished()) next = again->Wake(next, &after);
  EXPECT_EQ(again->exit_reason(), ExitReason::kCompleted);
  ASSERT_GE(after.size(), 3u);
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].attempt, 1);
    EXPECT_EQ(after[i].seq, snap.seq + 1 + static_cast<int64_t>(i));
    EXPECT_GE(after[i].time, restart);
  }
  EXPECT_EQ(after[0].type, EventType::kInfo);
  EXPECT_THAT(after[0].message,
              HasSubstr(absl::StrCat("continuing from the checkpoint at step ",
                                     checkpoint)));
  ASSERT_TRUE(after[1].status.has_value());
  EXPECT_EQ(after[1].status->substatus, "Recovering from checkpoint...");
  // Same attempt: no resume in the webhooks.md sense.
  EXPECT_FALSE(after[1].status->resumed_from_step.has_value());
  std::vector<const PodEvent*> metrics = OfType(after, EventType::kMetrics);
  ASSERT_FALSE(metrics.empty());
  EXPECT_EQ(metrics[0]->metrics->step, checkpoint + 1);
  EXPECT_EQ(again->Snapshot().restarts, 1);
}

TEST_F(PodContainerTest, RestartBeforeTrainingRedoesTheStage) {
  auto c = Make();
  std::vector<PodEvent> before = Play(*c, kStart + absl::Seconds(90));
  ContainerSnapshot snap = c->Snapshot();
  ASSERT_EQ(snap.stage, Stage::kModelLoading);
  auto again = Make();
  again->Restore(snap);
  std::vector<PodEvent> after;
  absl::Time next = again->Restart(kStart + absl::Minutes(5), &after);
  again->Wake(next, &after);
  ASSERT_GE(after.size(), 2u);
  EXPECT_THAT(after[0].message, HasSubstr("redoing model_loading"));
  ASSERT_TRUE(after[1].status.has_value());
  EXPECT_EQ(after[1].status->stage, "model_loading");
  EXPECT_EQ(after[1].seq, snap.seq + 2);
}

TEST_F(PodContainerTest, RestoredFinishedContainerStaysFinished) {
  auto c = Make();
  std::vector<PodEvent> events;
  c->Start(kStart, &events);
  c->Terminate(kStart + absl::Minutes(30), &events);
  auto again = Make();
  again->Restore(c->Snapshot());
  EXPECT_TRUE(again->finished());
  EXPECT_EQ(again->exit_reason(), ExitReason::kStopped);
  EXPECT_EQ(again->progress().events, c->progress().events);
}

}  // namespace
}  // namespace trainyard::gpusim
