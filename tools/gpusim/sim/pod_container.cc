// Copyright 2026 Trainyard authors.
#include "tools/gpusim/sim/pod_container.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/strings/absl_view.h"

namespace trainyard::gpusim {
namespace {

// FNV-1a: a stable hash, so a job's curve shape is the same in every run and
// every attempt.
uint64_t StableHash(std::string_view text) {
  uint64_t h = 1469598103934665603ull;
  for (char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

bool Reached(const std::optional<FaultPoint>& point, Stage stage,
             double percent) {
  return point && point->stage == stage && percent >= point->percent;
}

}  // namespace

std::string_view ExitReasonName(ExitReason reason) {
  switch (reason) {
    case ExitReason::kNone:
      return "";
    case ExitReason::kCompleted:
      return "completed";
    case ExitReason::kFailed:
      return "failed";
    case ExitReason::kInterrupted:
      return "interrupted";
    case ExitReason::kStopped:
      return "stopped";
  }
  return "";
}

PodContainer::PodContainer(TrainingConfig config, FaultPlan faults,
                           const GpuType& gpu, int gpu_count,
                           bool interruptible, uint64_t seed,
                           ContainerOptions options)
    : config_(std::move(config)),
      faults_(std::move(faults)),
      gpu_(gpu),
      gpu_count_(gpu_count),
      interruptible_(interruptible),
      options_(options),
      model_(ModelProfile::FromName(config_.base_model)),
      curves_(config_, model_, gpu_, gpu_count_, StableHash(config_.job_id)),
      rng_(config_.seed.value_or(seed) ^
           (static_cast<uint64_t>(config_.attempt) * 0x9E3779B97F4A7C15ull)) {}

absl::Time PodContainer::Start(absl::Time now, std::vector<PodEvent>* out) {
  last_spot_check_ = now;
  Emit(EventType::kInfo, now,
       absl::StrCat("Container started on ", gpu_count_, "x ",
                    ToAbsl(gpu_.display_name), interruptible_ ? " (spot)" : "",
                    ": ", model_.DisplayName(), ", LoRA rank ",
                    config_.lora_rank, ", attempt ", config_.attempt),
       out);
  EnterStage(Stage::kPreprocessing, now, out);
  return next_at_;
}

absl::Time PodContainer::Wake(absl::Time now, std::vector<PodEvent>* out) {
  while (!finished() && next_at_ <= now) Act(out);
  return finished() ? absl::InfiniteFuture() : next_at_;
}

void PodContainer::Terminate(absl::Time now, std::vector<PodEvent>* out) {
  Wake(now, out);
  if (finished()) return;
  absl::Time at = std::max(now, last_event_time_);
  // Before training starts again, the checkpoint to resume from is still the
  // one this attempt was resumed from.
  int64_t step = std::max(step_, config_.resume_step);
  if (step > 0) {
    EmitCheckpoint(
        at, step, absl::StrCat("Checkpoint saved at step ", step, " (SIGTERM)"),
        out);
    Emit(EventType::kInfo, at,
         absl::StrCat("Received SIGTERM during ", ToAbsl(StageName(stage_)),
                      ": checkpoint saved at step ", step, ", exiting"),
         out);
  } else {
    Emit(EventType::kInfo, at,
         absl::StrCat("Received SIGTERM during ", ToAbsl(StageName(stage_)),
                      ": nothing to checkpoint yet, exiting"),
         out);
  }
  Finish(ExitReason::kStopped);
}

void PodContainer::Interrupt(absl::Time now, std::vector<PodEvent>* out) {
  Wake(now, out);
  if (finished()) return;
  Reclaim(std::max(now, last_event_time_), out);
}

void PodContainer::Reclaim(absl::Time at, std::vector<PodEvent>* out) {
  Emit(EventType::kWarning, at,
       absl::StrCat(
           "Spot instance interrupted during ", ToAbsl(StageName(stage_)),
           stage_ == Stage::kTraining ? absl::StrCat(" at step ", step_)
                                      : std::string(),
           ": the provider reclaimed the GPU (last checkpoint: step ",
           last_checkpoint_step_, ")"),
       out);
  Finish(ExitReason::kInterrupted);
}

ContainerSnapshot PodContainer::Snapshot() const {
  return {.stage = stage_,
          .step = step_,
          .last_checkpoint_step = last_checkpoint_step_,
          .seq = seq_,
          .stall_fired = stall_fired_,
          .spot_fired = spot_fired_,
          .fail_fired = fail_fired_,
          .diverged = diverged_,
          .restarts = restarts_,
          .exit_reason = exit_reason_,
          .exit_message = exit_message_};
}

void PodContainer::Restore(const ContainerSnapshot& snapshot) {
  stage_ = snapshot.stage;
  step_ = snapshot.step;
  last_checkpoint_step_ = snapshot.last_checkpoint_step;
  seq_ = snapshot.seq;
  stall_fired_ = snapshot.stall_fired;
  spot_fired_ = snapshot.spot_fired;
  fail_fired_ = snapshot.fail_fired;
  diverged_ = snapshot.diverged;
  restarts_ = snapshot.restarts;
  exit_reason_ = snapshot.exit_reason;
  exit_message_ = snapshot.exit_message;
  next_at_ = absl::InfiniteFuture();
  // Another process, other random draws than the run before.
  rng_.seed(rng_() ^ static_cast<uint64_t>(restarts_ + 1));
}

absl::Time PodContainer::Restart(absl::Time now, std::vector<PodEvent>* out) {
  ++restarts_;
  last_spot_check_ = now;
  int64_t checkpoint = std::max(last_checkpoint_step_, config_.resume_step);
  Emit(
      EventType::kInfo, now,
      absl::StrCat("Container restarted (the machine restarted) during ",
                   ToAbsl(StageName(stage_)), ", attempt ", config_.attempt,
                   stage_ == Stage::kTraining
                       ? absl::StrCat(": continuing from the checkpoint at "
                                      "step ",
                                      checkpoint)
                       : absl::StrCat(": redoing ", ToAbsl(StageName(stage_)))),
      out);
  if (stage_ != Stage::kTraining) {
    EnterStage(stage_, now, out);
    return next_at_;
  }
  step_ = checkpoint;
  last_checkpoint_step_ = checkpoint;
  epoch_loss_sum_ = 0;
  epoch_loss_count_ = 0;
  EmitStatus(now, "Recovering from checkpoint...", TrainingPercent(step_), out);
  TrainFromStep(now, out);
  return next_at_;
}

ContainerProgress PodContainer::progress() const {
  return {.stage = stage_,
          .step = step_,
          .total_steps = curves_.TotalSteps(),
          .epoch = Epoch(step_),
          .attempt = config_.attempt,
          .last_checkpoint_step = last_checkpoint_step_,
          .events = seq_,
          .stalled = stalled_};
}

void PodContainer::Act(std::vector<PodEvent>* out) {
  stalled_ = false;
  if (RandomSpot(out)) return;
  switch (pending_) {
    case Pending::kTick:
      ActTick(out);
      break;
    case Pending::kTrainStep:
      ActTrainStep(out);
      break;
    case Pending::kValidation:
      ActValidation(out);
      break;
  }
}

void PodContainer::EnterStage(Stage stage, absl::Time at,
                              std::vector<PodEvent>* out) {
  stage_ = stage;
  if (stage == Stage::kTraining) {
    EnterTraining(at, out);
    return;
  }
  if (stage == Stage::kModelLoading &&
      curves_.MemoryNeeded() > 0.9 * static_cast<double>(gpu_.memory_bytes)) {
    Emit(
        EventType::kWarning, at,
        absl::StrFormat("GPU memory nearly full: %.1f of %.1f GiB needed "
                        "per GPU",
                        static_cast<double>(curves_.MemoryNeeded()) / (1 << 30),
                        static_cast<double>(gpu_.memory_bytes) / (1 << 30)),
        out);
  }
  stage_start_ = at;
  ticks_ =
      StageTicks(StageOperations(stage, config_, model_),
                 StageDuration(stage, config_, rng_), options_.status_interval);
  tick_index_ = 0;
  pending_ = Pending::kTick;
  next_at_ = stage_start_ + ticks_[0].offset;
}

void PodContainer::EnterTraining(absl::Time at, std::vector<PodEvent>* out) {
  step_ = config_.resume_step;
  last_checkpoint_step_ = config_.resume_step;
  double percent = TrainingPercent(step_);
  if (config_.resume_step > 0 || config_.attempt > 1) {
    // A later attempt says where it resumed, also from step 0 (interrupted
    // before its first checkpoint), so the recovery shows as closed.
    if (config_.resume_step > 0) {
      EmitStatus(at, "Recovering from checkpoint...", percent, out);
    }
    PodEvent& resumed = EmitStatus(
        at, absl::StrCat("\u2713 Resumed from step ", config_.resume_step),
        percent, out);
    resumed.status->resumed_from_step = config_.resume_step;
  } else {
    EmitStatus(at, TrainingSubstatus(), percent, out);
  }
  TrainFromStep(at, out);
}

void PodContainer::TrainFromStep(absl::Time at, std::vector<PodEvent>* out) {
  if (step_ >= curves_.TotalSteps()) {
    EnterStage(Stage::kFinalization, at, out);
    return;
  }
  step_time_ = curves_.StepTime(curves_.SampleGpu(rng_).tokens_per_second);
  pending_ = Pending::kTrainStep;
  next_at_ = at + step_time_;
}

void PodContainer::ActTick(std::vector<PodEvent>* out) {
  const StageTick& tick = ticks_[tick_index_];
  if (StallOrSpot(tick.progress, out)) return;
  absl::Time at = next_at_;
  EmitStatus(at, tick.substatus, tick.progress, out);
  if (Fail(tick.progress, out)) return;
  if (++tick_index_ < ticks_.size()) {
    next_at_ = stage_start_ + ticks_[tick_index_].offset;
    return;
  }
  if (stage_ == Stage::kFinalization) {
    Emit(EventType::kInfo, at,
         absl::StrCat("Training complete: adapter_model.bin and "
                      "adapter_config.json uploaded to ",
                      config_.CheckpointUriPrefix(), "/adapter"),
         out);
    Finish(ExitReason::kCompleted);
    return;
  }
  EnterStage(
      stage_ == Stage::kPreprocessing ? Stage::kModelLoading : Stage::kTraining,
      at, out);
}

void PodContainer::ActTrainStep(std::vector<PodEvent>* out) {
  int64_t step = step_ + 1;
  double percent = TrainingPercent(step);
  if (StallOrSpot(percent, out)) return;
  absl::Time at = next_at_;
  if (Fail(percent, out)) return;
  if (Reached(faults_.nan_at, Stage::kTraining, percent)) diverged_ = true;
  step_ = step;
  int64_t total = curves_.TotalSteps();
  int64_t epoch = Epoch(step);
  bool checkpoint = step % config_.checkpoint_every == 0;
  bool epoch_end = step % config_.StepsPerEpoch() == 0 || step == total;
  GpuSample gpu = curves_.SampleGpu(rng_, checkpoint);
  double loss = diverged_ ? std::numeric_limits<double>::quiet_NaN()
                          : curves_.TrainLoss(step, rng_);
  if (std::isfinite(loss)) {
    epoch_loss_sum_ += loss;
    ++epoch_loss_count_;
  }
  PodEvent& e = Emit(EventType::kMetrics, at, TrainingSubstatus(), out);
  e.metrics = MetricsPayload{
      .step = step,
      .total_steps = total,
      .epoch = epoch,
      .total_epochs = config_.epochs,
      .train_loss = loss,
      .learning_rate = curves_.LearningRate(step),
      .lr_schedule = config_.lr_schedule,
      .grad_norm = curves_.GradNorm(step, rng_),
      .gpu_utilization = gpu.utilization,
      .gpu_memory_used_bytes = gpu.memory_used_bytes,
      .gpu_memory_total_bytes = gpu.memory_total_bytes,
      .tokens_per_second = std::round(gpu.tokens_per_second),
  };
  if (checkpoint) {
    EmitCheckpoint(at, step, absl::StrCat("Checkpoint saved at step ", step),
                   out);
  }
  if (epoch_end) {
    EmitStatus(at, "Running validation...", percent, out);
    pending_ = Pending::kValidation;
    // Validation reads the 20% split forward-only: ~1/12 of an epoch.
    validation_end_ =
        at +
        std::max(step_time_, step_time_ * (config_.StepsPerEpoch() / 12.0));
    next_at_ = NextValidationBeat(at);
    return;
  }
  if (step % options_.status_every_steps == 0) {
    std::string trend;
    if (std::isfinite(loss)) {
      const char* arrow = "\u2192";
      if (last_status_loss_ && loss < *last_status_loss_ * 0.99) {
        arrow = "\u2193";
      } else if (last_status_loss_ && loss > *last_status_loss_ * 1.01) {
        arrow = "\u2191";
      }
      trend = absl::StrFormat("Loss: %.4f (%s)", loss, arrow);
      last_status_loss_ = loss;
    } else {
      trend = "Loss: NaN (diverged)";
    }
    EmitStatus(at, TrainingSubstatus(), percent, out).message = trend;
  }
  step_time_ = curves_.StepTime(gpu.tokens_per_second);
  next_at_ = at + step_time_;
}

absl::Time PodContainer::NextValidationBeat(absl::Time at) const {
  if (options_.status_interval <= absl::ZeroDuration()) return validation_end_;
  return std::min(at + options_.status_interval, validation_end_);
}

void PodContainer::ActValidation(std::vector<PodEvent>* out) {
  absl::Time at = next_at_;
  if (at < validation_end_) {
    // A long validation pass still says it is alive, as a real trainer's
    // progress callback does (metrics flags silence as a stall, R-X-07).
    EmitStatus(at, "Running validation...", TrainingPercent(step_), out);
    next_at_ = NextValidationBeat(at);
    return;
  }
  int64_t epoch = Epoch(step_);
  double val = curves_.ValLoss(static_cast<int>(epoch), step_, rng_);
  if (diverged_) val = std::numeric_limits<double>::quiet_NaN();
  PodEvent& e = Emit(EventType::kMetrics, at,
                     absl::StrFormat("Validation loss: %.4f (perplexity %.2f)",
                                     val, std::exp(val)),
                     out);
  e.metrics = MetricsPayload{.step = step_,
                             .total_steps = curves_.TotalSteps(),
                             .epoch = epoch,
                             .total_epochs = config_.epochs,
                             .val_loss = val,
                             .perplexity = std::exp(val)};
  double avg = epoch_loss_count_ > 0
                   ? epoch_loss_sum_ / static_cast<double>(epoch_loss_count_)
                   : val;
  EmitStatus(at,
             absl::StrFormat("Epoch %d complete - Avg loss: %.4f", epoch, avg),
             TrainingPercent(step_), out);
  epoch_loss_sum_ = 0;
  epoch_loss_count_ = 0;
  if (step_ >= curves_.TotalSteps()) {
    EnterStage(Stage::kFinalization, at, out);
    return;
  }
  pending_ = Pending::kTrainStep;
  next_at_ = at + step_time_;
}

bool PodContainer::StallOrSpot(double percent, std::vector<PodEvent>* out) {
  if (!stall_fired_ && Reached(faults_.stall_at, stage_, percent)) {
    stall_fired_ = true;
    stalled_ = true;
    next_at_ = faults_.stall_for > absl::ZeroDuration()
                   ? next_at_ + faults_.stall_for
                   : absl::InfiniteFuture();
    return true;
  }
  if (!spot_fired_ && interruptible_ &&
      Reached(faults_.spot_at, stage_, percent)) {
    spot_fired_ = true;
    Reclaim(next_at_, out);
    return true;
  }
  return false;
}

bool PodContainer::Fail(double percent, std::vector<PodEvent>* out) {
  if (fail_fired_ || !Reached(faults_.fail_at, stage_, percent)) return false;
  fail_fired_ = true;
  PodEvent& e = Emit(EventType::kError, next_at_,
                     absl::StrCat("Failed: ", faults_.fail_message), out);
  e.error = ErrorPayload{
      .code = faults_.fail_code,
      .message = faults_.fail_message,
      .details = absl::StrCat("stage ", ToAbsl(StageName(stage_)),
                              stage_ == Stage::kTraining
                                  ? absl::StrCat(", step ", step_ + 1)
                                  : std::string(),
                              "; injected fault fail_at")};
  Finish(ExitReason::kFailed, faults_.fail_message);
  return true;
}

bool PodContainer::RandomSpot(std::vector<PodEvent>* out) {
  absl::Time at = next_at_;
  absl::Duration elapsed = at - last_spot_check_;
  last_spot_check_ = at;
  if (!interruptible_ || faults_.spot_per_hour <= 0 ||
      elapsed <= absl::ZeroDuration()) {
    return false;
  }
  double hours = absl::ToDoubleHours(elapsed);
  double p = 1.0 - std::pow(1.0 - faults_.spot_per_hour, hours);
  if (std::uniform_real_distribution<double>(0, 1)(rng_) >= p) return false;
  Reclaim(at, out);
  return true;
}

void PodContainer::Finish(ExitReason reason, std::string message) {
  exit_reason_ = reason;
  exit_message_ = std::move(message);
  next_at_ = absl::InfiniteFuture();
  stalled_ = false;
}

PodEvent& PodContainer::Emit(EventType type, absl::Time at, std::string message,
                             std::vector<PodEvent>* out) {
  last_event_time_ = std::max(last_event_time_, at);
  PodEvent& e = out->emplace_back();
  e.type = type;
  e.attempt = config_.attempt;
  e.seq = ++seq_;
  e.time = last_event_time_;
  e.message = std::move(message);
  return e;
}

PodEvent& PodContainer::EmitStatus(absl::Time at, std::string substatus,
                                   double progress,
                                   std::vector<PodEvent>* out) {
  PodEvent& e = Emit(EventType::kStatus, at, substatus, out);
  e.status = StatusPayload{.stage = std::string(StageName(stage_)),
                           .substatus = std::move(substatus),
                           .stage_progress = std::round(progress * 10) / 10};
  return e;
}

void PodContainer::EmitCheckpoint(absl::Time at, int64_t step,
                                  std::string message,
                                  std::vector<PodEvent>* out) {
  PodEvent& e = Emit(EventType::kCheckpoint, at, std::move(message), out);
  e.checkpoint = CheckpointPayload{
      .step = step,
      .uri = absl::StrCat(config_.CheckpointUriPrefix(), "/ckpt-", step),
      .size_bytes = model_.CheckpointBytes(config_.lora_rank)};
  last_checkpoint_step_ = step;
}

int64_t PodContainer::Epoch(int64_t step) const {
  if (step <= 0) return 1;
  return std::min<int64_t>(config_.epochs,
                           (step - 1) / config_.StepsPerEpoch() + 1);
}

double PodContainer::TrainingPercent(int64_t step) const {
  return 100.0 * static_cast<double>(step) /
         static_cast<double>(curves_.TotalSteps());
}

std::string PodContainer::TrainingSubstatus() const {
  return absl::StrCat("Training epoch ", Epoch(step_), "/", config_.epochs,
                      " - Step ", step_, "/", curves_.TotalSteps(), "...");
}

}  // namespace trainyard::gpusim
