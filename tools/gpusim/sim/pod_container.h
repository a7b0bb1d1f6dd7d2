// Copyright 2026 Trainyard authors.
//
// File: tools/gpusim/sim/pod_container.h
// -----------------------------------------------------------------------------
// PodContainer: the simulated training process inside one pod. It plays a
// LoRA fine-tuning run through the four stages and produces the events a real
// container would post (see pod_event.h), each stamped with the simulated time
// it happened. It performs no I/O and reads no clock: the owner passes the
// current time in and delivers the events.
//
//   PodContainer c(config, faults, gpu, 1, /*interruptible=*/false, seed);
//   absl::Time next = c.Start(now, &events);
//   ... when the clock reaches `next`:  next = c.Wake(now, &events);
//   ... on POST /stop:                  c.Terminate(now, &events);
//
// Training: a metrics event every step; a status update every
// `status_every_steps` steps ("Training epoch 2/3 - Step 850/2000...", with
// the message "Loss: 0.3421 (↓)"); a checkpoint event every
// TRAINYARD_CHECKPOINT_EVERY steps ("Checkpoint saved at step 800"); after
// each epoch "Running validation...", a metrics event with valLoss and
// perplexity = exp(valLoss), and "Epoch 2 complete - Avg loss: 0.3412".
// A run created with TRAINYARD_RESUME_STEP > 0 reports
// status.resumedFromStep when training starts and continues from there; a
// later attempt (TRAINYARD_ATTEMPT > 1) from step 0 reports
// "Resumed from step 0" too. The last STATUS of a completed run is
// finalization at 100% (webhooks.md "Completion").
//
// Thread-compatible: the owner serializes calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "tools/gpusim/sim/fault_plan.h"
#include "tools/gpusim/sim/gpu_catalog.h"
#include "tools/gpusim/sim/model_profile.h"
#include "tools/gpusim/sim/pod_event.h"
#include "tools/gpusim/sim/stage.h"
#include "tools/gpusim/sim/stage_script.h"
#include "tools/gpusim/sim/training_config.h"
#include "tools/gpusim/sim/training_curves.h"

namespace trainyard::gpusim {

// Why a container ended (the pod's exitReason).
enum class ExitReason { kNone, kCompleted, kFailed, kInterrupted, kStopped };

// "completed", "failed", "interrupted", "stopped"; "" for kNone.
std::string_view ExitReasonName(ExitReason reason);

struct ContainerOptions {
  // Status updates within preprocessing, model loading, finalization and
  // validation passes.
  absl::Duration status_interval = absl::Seconds(30);
  // Training status updates every this many steps.
  int64_t status_every_steps = 10;
};

// What the pod API shows of a running container.
struct ContainerProgress {
  Stage stage = Stage::kPreprocessing;
  int64_t step = 0;
  int64_t total_steps = 0;
  int64_t epoch = 0;
  int64_t attempt = 1;
  int64_t last_checkpoint_step = 0;
  int64_t events = 0;  // emitted so far (the last seq)
  bool stalled = false;
};

// What a container must remember to be restarted after gpusim itself
// restarts (cloud/pod_state.h persists it): where the run was, the last
// sequence number it used, and the one-shot faults that already fired.
struct ContainerSnapshot {
  Stage stage = Stage::kPreprocessing;
  int64_t step = 0;
  int64_t last_checkpoint_step = 0;
  int64_t seq = 0;
  bool stall_fired = false;
  bool spot_fired = false;
  bool fail_fired = false;
  bool diverged = false;
  int64_t restarts = 0;  // times it was restarted so far
  ExitReason exit_reason = ExitReason::kNone;
  std::string exit_message;
  friend bool operator==(const ContainerSnapshot&,
                         const ContainerSnapshot&) = default;
};

class PodContainer {
 public:
  // `gpu` must outlive the container (catalog entries do).
  PodContainer(TrainingConfig config, FaultPlan faults, const GpuType& gpu,
               int gpu_count, bool interruptible, uint64_t seed,
               ContainerOptions options = {});
  PodContainer(const PodContainer&) = delete;
  PodContainer& operator=(const PodContainer&) = delete;

  // Boots the container at `now` and appends its first events. Returns when
  // Wake() is next due; absl::InfiniteFuture() when nothing is planned.
  // REQUIRES: called once, first.
  absl::Time Start(absl::Time now, std::vector<PodEvent>* out);

  // Performs everything planned up to `now`, appending the events (stamped
  // when they happened, never after `now`). Returns the next due time, or
  // InfiniteFuture once finished or stalled for good. Calling it early or
  // late is harmless.
  absl::Time Wake(absl::Time now, std::vector<PodEvent>* out);

  // SIGTERM: catches up to `now`, saves a checkpoint at the current step
  // (before training: re-reports the resume step's checkpoint) as a
  // CHECKPOINT event, reports it (INFO) and exits with kStopped. With nothing
  // to checkpoint (a first attempt before training) only the INFO. No-op once
  // finished.
  void Terminate(absl::Time now, std::vector<PodEvent>* out);

  // Spot reclaim: catches up to `now`, reports a WARNING and exits with
  // kInterrupted (no time to checkpoint). No-op once finished.
  void Interrupt(absl::Time now, std::vector<PodEvent>* out);

  // What Restore() needs to bring this container back.
  ContainerSnapshot Snapshot() const;

  // Instead of Start(): takes the state of `snapshot` (of a container of the
  // same config) without emitting anything. A finished snapshot gives a
  // finished container (its exit reason and message); an unfinished one
  // waits for Restart().
  void Restore(const ContainerSnapshot& snapshot);

  // The container process starts again after a crash of the machine (gpusim
  // restarted), in the same attempt: its events continue the attempt's seq
  // after the snapshot's. It reports an INFO saying so, then redoes the stage
  // it was in from its start, or, in training, goes back to its last
  // checkpoint ("Recovering from checkpoint...", a STATUS without
  // resumedFromStep: the attempt is the same, so this is no resume in the
  // webhooks.md sense) and trains on from the step after it. Returns when
  // Wake() is next due. REQUIRES: Restore() of an unfinished snapshot.
  absl::Time Restart(absl::Time now, std::vector<PodEvent>* out);

  // Replaces the fault plan; faults already triggered stay triggered.
  void SetFaults(FaultPlan faults) { faults_ = std::move(faults); }
  const FaultPlan& faults() const { return faults_; }

  bool finished() const { return exit_reason_ != ExitReason::kNone; }
  ExitReason exit_reason() const { return exit_reason_; }
  // The error message for kFailed; "" otherwise.
  const std::string& exit_message() const { return exit_message_; }
  ContainerProgress progress() const;
  const TrainingConfig& config() const { return config_; }

 private:
  enum class Pending { kTick, kTrainStep, kValidation };

  // Performs the one action due at next_at_.
  void Act(std::vector<PodEvent>* out);
  void ActTick(std::vector<PodEvent>* out);
  void ActTrainStep(std::vector<PodEvent>* out);
  void ActValidation(std::vector<PodEvent>* out);
  // When the validation pass under way next reports (status_interval after
  // `at`; no heartbeats with a zero interval), or ends.
  absl::Time NextValidationBeat(absl::Time at) const;
  void EnterStage(Stage stage, absl::Time at, std::vector<PodEvent>* out);
  void EnterTraining(absl::Time at, std::vector<PodEvent>* out);
  // Plans the step after step_ (or finalization when training is done).
  void TrainFromStep(absl::Time at, std::vector<PodEvent>* out);
  // Checks the faults due at `percent` of the current stage. Returns true
  // when one ended or paused the action (the caller returns).
  bool StallOrSpot(double percent, std::vector<PodEvent>* out);
  bool Fail(double percent, std::vector<PodEvent>* out);
  // Rolls the per-hour spot interruption dice for the time since last time.
  bool RandomSpot(std::vector<PodEvent>* out);
  // Reports the reclaim at `at` and ends the run.
  void Reclaim(absl::Time at, std::vector<PodEvent>* out);
  void Finish(ExitReason reason, std::string message = "");

  PodEvent& Emit(EventType type, absl::Time at, std::string message,
                 std::vector<PodEvent>* out);
  PodEvent& EmitStatus(absl::Time at, std::string substatus, double progress,
                       std::vector<PodEvent>* out);
  void EmitCheckpoint(absl::Time at, int64_t step, std::string message,
                      std::vector<PodEvent>* out);
  int64_t Epoch(int64_t step) const;
  double TrainingPercent(int64_t step) const;
  std::string TrainingSubstatus() const;

  const TrainingConfig config_;
  FaultPlan faults_;
  const GpuType& gpu_;
  const int gpu_count_;
  const bool interruptible_;
  const ContainerOptions options_;
  const ModelProfile model_;
  const TrainingCurves curves_;
  Rng rng_;

  Stage stage_ = Stage::kPreprocessing;
  Pending pending_ = Pending::kTick;
  absl::Time next_at_ = absl::InfiniteFuture();
  absl::Time last_event_time_ = absl::InfinitePast();
  absl::Time last_spot_check_ = absl::InfinitePast();
  // Non-training stages.
  std::vector<StageTick> ticks_;
  size_t tick_index_ = 0;
  absl::Time stage_start_;
  absl::Time validation_end_;  // Of the validation pass under way.
  // Training.
  int64_t step_ = 0;
  int64_t last_checkpoint_step_ = 0;
  absl::Duration step_time_ = absl::Seconds(1);
  double epoch_loss_sum_ = 0;
  int64_t epoch_loss_count_ = 0;
  std::optional<double> last_status_loss_;
  // Faults that fire once.
  bool stall_fired_ = false;
  bool spot_fired_ = false;
  bool fail_fired_ = false;
  bool diverged_ = false;
  bool stalled_ = false;

  int64_t seq_ = 0;
  int64_t restarts_ = 0;
  ExitReason exit_reason_ = ExitReason::kNone;
  std::string exit_message_;
};

}  // namespace trainyard::gpusim
