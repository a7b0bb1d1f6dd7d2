// Copyright 2026 Trainyard authors.
#include "services/metrics/domain/job_tracker.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "common/strings/absl_view.h"
#include "common/time/proto_time.h"
#include "services/metrics/domain/trend.h"

namespace trainyard::metrics {
namespace {

using common::v1::CurrentMetrics;
using common::v1::JobStages;
using common::v1::Stage;
using common::v1::StageInfo;
using common::v1::StageState;
using internal::JobState;

constexpr Stage kStages[] = {
    common::v1::STAGE_PREPROCESSING, common::v1::STAGE_MODEL_LOADING,
    common::v1::STAGE_TRAINING, common::v1::STAGE_FINALIZATION};

StageInfo* StageOf(JobState* state, Stage stage) {
  return state->mutable_stages()->mutable_stages(static_cast<int>(stage) - 1);
}

bool Has(const google::protobuf::Timestamp& t) {
  return t.seconds() != 0 || t.nanos() != 0;
}

void CloseStage(StageInfo* info, StageState end_state,
                const google::protobuf::Timestamp& time) {
  info->set_state(end_state);
  if (!Has(info->start_time())) *info->mutable_start_time() = time;
  *info->mutable_end_time() = time;
  *info->mutable_duration() =
      ToProto(FromProto(time) - FromProto(info->start_time()));
}

// Makes `stage` the active one: earlier stages complete (R-STAGE-01), later
// ones wait.
void ActivateStage(JobState* state, Stage stage,
                   const google::protobuf::Timestamp& time) {
  for (Stage s : kStages) {
    StageInfo* info = StageOf(state, s);
    if (s < stage) {
      if (info->state() != common::v1::STAGE_STATE_COMPLETED) {
        CloseStage(info, common::v1::STAGE_STATE_COMPLETED, time);
      }
    } else if (s == stage) {
      if (info->state() == common::v1::STAGE_STATE_PENDING ||
          info->state() == common::v1::STAGE_STATE_FAILED ||
          info->state() == common::v1::STAGE_STATE_COMPLETED) {
        info->set_state(common::v1::STAGE_STATE_ACTIVE);
        *info->mutable_start_time() = time;
        info->clear_end_time();
        info->clear_duration();
        info->clear_error();
      } else if (info->state() == common::v1::STAGE_STATE_RECOVERING) {
        info->set_state(common::v1::STAGE_STATE_ACTIVE);
      }
    } else if (info->state() != common::v1::STAGE_STATE_PENDING) {
      info->set_state(common::v1::STAGE_STATE_PENDING);
      info->clear_start_time();
      info->clear_end_time();
      info->clear_duration();
    }
  }
  state->mutable_stages()->set_current_stage(stage);
  state->mutable_progress()->set_stage(stage);
}

std::optional<double> SecondsPerStep(const JobState& state) {
  if (state.recent_steps_size() < 2) return std::nullopt;
  const auto& first = state.recent_steps(0);
  const auto& last = state.recent_steps(state.recent_steps_size() - 1);
  int64_t steps = last.step() - first.step();
  if (steps <= 0) return std::nullopt;
  return absl::ToDoubleSeconds(FromProto(last.time()) -
                               FromProto(first.time())) /
         static_cast<double>(steps);
}

// The median of the recent seconds per step, interval by interval: unlike
// SecondsPerStep (the mean the dashboard shows), one long pause between two
// samples (a validation pass, a checkpoint upload) does not move it, while a
// slowdown of most recent steps does. R-X-07 SPEED_DROP compares these.
std::optional<double> TypicalSecondsPerStep(const JobState& state) {
  std::vector<double> rates;
  for (int i = 1; i < state.recent_steps_size(); ++i) {
    const int64_t steps =
        state.recent_steps(i).step() - state.recent_steps(i - 1).step();
    if (steps <= 0) continue;
    rates.push_back(
        absl::ToDoubleSeconds(FromProto(state.recent_steps(i).time()) -
                              FromProto(state.recent_steps(i - 1).time())) /
        static_cast<double>(steps));
  }
  if (rates.empty()) return std::nullopt;
  auto mid = rates.begin() + static_cast<std::ptrdiff_t>(rates.size() / 2);
  std::nth_element(rates.begin(), mid, rates.end());
  return *mid;
}

// The mean time between the recent METRICS events.
std::optional<absl::Duration> ReportingInterval(const JobState& state) {
  const int n = state.recent_steps_size();
  if (n < 2) return std::nullopt;
  return (FromProto(state.recent_steps(n - 1).time()) -
          FromProto(state.recent_steps(0).time())) /
         (n - 1);
}

// A new attempt or a rewind: the speed may differ (another GPU), so the
// SPEED_DROP baseline is taken again from the samples that follow.
void ResetSpeedBaseline(JobState* state) {
  state->clear_baseline_seconds_per_step();
  state->set_speed_samples(0);
}

// The container said it is done: its last STATUS was finalization at 100%
// (webhooks.md "Completion"), before job-control has seen the pod exit.
bool Finished(const JobState& state) {
  return state.stages().stages(common::v1::STAGE_FINALIZATION - 1).state() ==
         common::v1::STAGE_STATE_COMPLETED;
}

}  // namespace

bool MayStall(const JobState& state) {
  if (Finished(state)) return false;
  switch (state.progress().job_state()) {
    case common::v1::JOB_STATE_QUEUED:
    case common::v1::JOB_STATE_PAUSING:
    case common::v1::JOB_STATE_PAUSED:
    case common::v1::JOB_STATE_CANCELLING:
    case common::v1::JOB_STATE_CANCELLED:
    case common::v1::JOB_STATE_COMPLETED:
    case common::v1::JOB_STATE_FAILED:
      return false;
    default:
      return true;
  }
}

namespace {

// Whether `event`, folded into `state`, ends the job's stall flag.
bool StallIsOver(const StallOptions& options, const v1::Event& event,
                 const JobState& state) {
  if (!MayStall(state)) return true;
  switch (state.progress().stall_reason()) {
    case common::v1::STALL_REASON_METRIC_SILENCE:
      return event.has_metrics();
    case common::v1::STALL_REASON_SPEED_DROP: {
      if (!event.has_metrics()) return false;
      const double baseline = state.baseline_seconds_per_step();
      std::optional<double> sps = TypicalSecondsPerStep(state);
      return baseline <= 0 || !sps ||
             *sps <= options.speed_recovered_factor * baseline;
    }
    default:  // NO_HEARTBEAT, SUSPECTED_PREEMPTION: any event is a sign of
      return true;  // life.
  }
}

void SetTrainingPercent(JobState* state) {
  const common::v1::Progress& p = state->progress();
  double percent = p.total_steps() > 0
                       ? std::clamp(100.0 * static_cast<double>(p.step()) /
                                        static_cast<double>(p.total_steps()),
                                    0.0, 100.0)
                       : 0.0;
  state->mutable_progress()->set_percent(percent);
  StageOf(state, common::v1::STAGE_TRAINING)->set_progress_percent(percent);
}

// CurrentMetrics' mutable accessor of one metric.
using MetricSlot = common::v1::MetricValue* (CurrentMetrics::*)();

// Sets the metric when `present` only: a metric never reported stays unset
// ("never reported: hide the row").
void UpdateMetric(CurrentMetrics* cm, MetricSlot metric, bool present,
                  double value, int64_t step, absl::Time time, Better better,
                  double unchanged_percent) {
  if (!present) return;
  common::v1::MetricValue* slot = (cm->*metric)();
  bool had = slot->has_time();
  common::v1::MetricValue prev = *slot;
  *slot = NextMetricValue(had ? &prev : nullptr, value, step, time, better,
                          unchanged_percent);
}

// The job resumed training at step `from` (R-STAGE-05): the recovery in
// progress ends (or, for a resume nobody reported as an interruption, e.g.
// after a pause, one is recorded), and progress restarts from there.
void Resume(JobState* state, int64_t from, const v1::Event& event) {
  JobStages* stages = state->mutable_stages();
  if (stages->recoveries_size() == 0 ||
      !stages->recoveries(stages->recoveries_size() - 1).in_progress()) {
    auto* r = stages->add_recoveries();
    r->set_interrupted_attempt(event.attempt() - 1);
    r->set_recovery_attempt(event.attempt());
    r->set_interrupted_at_step(state->max_step());
  }
  auto* r = stages->mutable_recoveries(stages->recoveries_size() - 1);
  r->set_resumed_from_step(from);
  *r->mutable_resumed_time() = event.occurred_time();
  r->set_recovery_progress_percent(100);
  r->set_in_progress(false);
  state->set_attempt_step(from);
  state->mutable_progress()->set_step(from);
  SetTrainingPercent(state);
}

// A recovery that no container has reported a resume step for, and
// `event`, the first METRICS of the recovering attempt: that attempt started
// over from step 0 (it was interrupted before its first checkpoint).
bool ResumesImplicitly(const JobState& state, const v1::Event& event) {
  const auto& recoveries = state.stages().recoveries();
  return event.has_metrics() && !recoveries.empty() &&
         recoveries.rbegin()->in_progress() &&
         event.attempt() >= recoveries.rbegin()->recovery_attempt();
}

void FoldMetrics(const TrackerOptions& options, const v1::Event& event,
                 JobState* state) {
  const v1::MetricsPayload& m = event.metrics();
  if (state->has_attempt_step() && m.step() < state->attempt_step()) {
    return;  // Out of order: stored and drawn, but not current.
  }
  state->set_attempt_step(m.step());
  common::v1::Progress* p = state->mutable_progress();
  const StageInfo& training = *StageOf(state, common::v1::STAGE_TRAINING);
  if (training.state() != common::v1::STAGE_STATE_ACTIVE &&
      state->stages().current_stage() <= common::v1::STAGE_TRAINING) {
    ActivateStage(state, common::v1::STAGE_TRAINING, event.occurred_time());
  }
  p->set_step(m.step());
  if (m.has_total_steps()) p->set_total_steps(m.total_steps());
  if (m.has_epoch()) p->set_epoch(m.epoch());
  if (m.has_total_epochs()) p->set_total_epochs(m.total_epochs());
  SetTrainingPercent(state);

  // A step below the newest sample means a rewind: speed restarts from here.
  if (state->recent_steps_size() > 0 &&
      m.step() < state->recent_steps(state->recent_steps_size() - 1).step()) {
    state->clear_recent_steps();
    ResetSpeedBaseline(state);
  }
  auto* sample = state->add_recent_steps();
  sample->set_step(m.step());
  *sample->mutable_time() = event.occurred_time();
  while (state->recent_steps_size() > options.speed_window) {
    state->mutable_recent_steps()->DeleteSubrange(0, 1);
  }
  *state->mutable_metrics_due_since() = event.receive_time();
  if (state->baseline_seconds_per_step() <= 0) {
    // R-X-07 SPEED_DROP: taken once the whole window is of the current
    // attempt; tried again a window later when those samples gave no speed
    // (events that come in bursts, one timestamp for many steps).
    state->set_speed_samples(state->speed_samples() + 1);
    if (state->speed_samples() >= options.speed_window &&
        state->recent_steps_size() >= options.speed_window) {
      state->set_speed_samples(0);
      if (std::optional<double> sps = TypicalSecondsPerStep(*state);
          sps && *sps > 0) {
        state->set_baseline_seconds_per_step(*sps);
      }
    }
  }
  state->set_max_step(std::max(state->max_step(), m.step()));

  absl::Time time = FromProto(event.occurred_time());
  CurrentMetrics* cm = state->mutable_metrics();
  double u = options.unchanged_percent;
  UpdateMetric(cm, &CurrentMetrics::mutable_train_loss, m.has_train_loss(),
               m.train_loss(), m.step(), time, Better::kLower, u);
  UpdateMetric(cm, &CurrentMetrics::mutable_val_loss, m.has_val_loss(),
               m.val_loss(), m.step(), time, Better::kLower, u);
  UpdateMetric(cm, &CurrentMetrics::mutable_learning_rate,
               m.has_learning_rate(), m.learning_rate(), m.step(), time,
               Better::kNeither, u);
  if (!m.lr_schedule().empty()) cm->set_lr_schedule(m.lr_schedule());
  UpdateMetric(cm, &CurrentMetrics::mutable_grad_norm, m.has_grad_norm(),
               m.grad_norm(), m.step(), time, Better::kNeither, u);
  UpdateMetric(cm, &CurrentMetrics::mutable_gpu_utilization,
               m.has_gpu_utilization(), m.gpu_utilization(), m.step(), time,
               Better::kHigher, u);
  UpdateMetric(cm, &CurrentMetrics::mutable_tokens_per_second,
               m.has_tokens_per_second(), m.tokens_per_second(), m.step(), time,
               Better::kHigher, u);
  UpdateMetric(cm, &CurrentMetrics::mutable_perplexity, m.has_perplexity(),
               m.perplexity(), m.step(), time, Better::kLower, u);
  if (m.has_gpu_memory_used_bytes()) {
    cm->set_gpu_memory_used_bytes(m.gpu_memory_used_bytes());
  }
  if (m.has_gpu_memory_total_bytes()) {
    cm->set_gpu_memory_total_bytes(m.gpu_memory_total_bytes());
  }
  if (std::optional<double> sps = SecondsPerStep(*state); sps && *sps > 0) {
    UpdateMetric(cm, &CurrentMetrics::mutable_steps_per_hour, true,
                 3600.0 / *sps, m.step(), time, Better::kHigher, u);
  }
  cm->set_step(m.step());
}

void FoldStatus(const v1::StatusPayload& s, const v1::Event& event,
                JobState* state) {
  const bool done = s.stage() == common::v1::STAGE_FINALIZATION &&
                    s.has_stage_progress() && s.stage_progress() >= 100;
  if (s.stage() != common::v1::STAGE_UNSPECIFIED &&
      !(s.stage() == common::v1::STAGE_FINALIZATION && Finished(*state))) {
    ActivateStage(state, s.stage(), event.occurred_time());
    StageInfo* info = StageOf(state, s.stage());
    if (!s.substatus().empty()) info->set_substatus(s.substatus());
    if (s.has_stage_progress()) {
      info->set_progress_percent(std::clamp(s.stage_progress(), 0.0, 100.0));
    }
    // The completion signal (webhooks.md): the job's last stage is over.
    if (done) {
      CloseStage(info, common::v1::STAGE_STATE_COMPLETED,
                 event.occurred_time());
    }
    if (s.stage() == common::v1::STAGE_MODEL_LOADING) {
      absl::string_view text = s.substatus();
      if (absl::StrContains(text, "from cache")) {
        info->set_model_cache_hit(true);
      } else if (absl::StrContains(text, "Downloading")) {
        info->set_model_cache_hit(false);
      }
    }
  }
  if (s.has_resumed_from_step()) Resume(state, s.resumed_from_step(), event);
}

void FailStage(JobState* state, const std::string& code,
               const std::string& message, const std::string& details,
               const v1::Event& event) {
  Stage stage = state->stages().current_stage();
  if (stage == common::v1::STAGE_UNSPECIFIED) {
    stage = common::v1::STAGE_PREPROCESSING;
  }
  StageInfo* info = StageOf(state, stage);
  if (info->state() == common::v1::STAGE_STATE_FAILED) return;
  CloseStage(info, common::v1::STAGE_STATE_FAILED, event.occurred_time());
  auto* error = info->mutable_error();
  error->set_code(code);
  error->set_message(message);
  error->set_details(details);
  *error->mutable_time() = event.occurred_time();
  error->set_job_seq(event.job_seq());
  JobStages* stages = state->mutable_stages();
  stages->set_current_stage(stage);
  stages->clear_retryable_from();
  stages->add_retryable_from(stage);  // R-STAGE-06: from the failed stage
}

// `previous_attempt`: the job's attempt before `event` (which may carry the
// next one already).
void FoldLifecycle(const v1::LifecyclePayload& l, const v1::Event& event,
                   int32_t previous_attempt, JobState* state) {
  common::v1::Progress* p = state->mutable_progress();
  const google::protobuf::Timestamp& time = event.occurred_time();
  if (l.job_state() != p->job_state()) {
    // Paused, resumed, recovering: METRICS are due from now on (R-X-07).
    *state->mutable_metrics_due_since() = event.receive_time();
  }
  p->set_job_state(l.job_state());
  if (l.pricing() != common::v1::PRICING_UNSPECIFIED) {
    state->set_pricing(l.pricing());
  }
  if (l.has_total_steps() && p->total_steps() == 0) {
    p->set_total_steps(l.total_steps());
  }
  if (l.has_total_epochs() && p->total_epochs() == 0) {
    p->set_total_epochs(l.total_epochs());
  }
  switch (l.job_state()) {
    case common::v1::JOB_STATE_QUEUED:
      state->clear_end_time();  // a retry or resume goes on
      break;
    case common::v1::JOB_STATE_PROVISIONING:
      if (!Has(p->start_time())) *p->mutable_start_time() = time;
      if (Has(state->paused_since())) {
        *state->mutable_paused_total() =
            ToProto(FromProto(state->paused_total()) +
                    (FromProto(time) - FromProto(state->paused_since())));
        state->clear_paused_since();
      }
      break;
    case common::v1::JOB_STATE_PAUSED:
      *state->mutable_paused_since() = time;
      break;
    case common::v1::JOB_STATE_RECOVERING: {
      auto* r = state->mutable_stages()->add_recoveries();
      r->set_interrupted_attempt(previous_attempt);
      r->set_recovery_attempt(std::max(event.attempt(), previous_attempt + 1));
      *r->mutable_interrupted_time() = time;
      r->set_interrupted_at_step(state->max_step());
      r->set_in_progress(true);
      StageOf(state, common::v1::STAGE_TRAINING)
          ->set_state(common::v1::STAGE_STATE_RECOVERING);
      break;
    }
    case common::v1::JOB_STATE_COMPLETED:
      if (!Finished(*state)) {  // Else the container's completion stands.
        ActivateStage(state, common::v1::STAGE_FINALIZATION, time);
        CloseStage(StageOf(state, common::v1::STAGE_FINALIZATION),
                   common::v1::STAGE_STATE_COMPLETED, time);
      }
      *state->mutable_end_time() = time;
      break;
    case common::v1::JOB_STATE_FAILED:
      FailStage(state, l.reason().empty() ? "JOB_FAILED" : l.reason(),
                l.reason_text(), l.notes(), event);
      *state->mutable_end_time() = time;
      break;
    case common::v1::JOB_STATE_CANCELLED:
      *state->mutable_end_time() = time;
      break;
    default:
      break;
  }
}

}  // namespace

bool IsTerminal(common::v1::JobState state) {
  return state == common::v1::JOB_STATE_COMPLETED ||
         state == common::v1::JOB_STATE_FAILED ||
         state == common::v1::JOB_STATE_CANCELLED;
}

std::optional<v1::StallPayload> DetectStall(const JobState& state,
                                            absl::Time now,
                                            const StallOptions& options) {
  const common::v1::Progress& p = state.progress();
  if (!Has(state.last_receive_time()) || !MayStall(state)) return std::nullopt;
  const bool silent =
      p.stalled() &&
      p.stall_reason() != common::v1::STALL_REASON_METRIC_SILENCE &&
      p.stall_reason() != common::v1::STALL_REASON_SPEED_DROP;
  if (silent) return std::nullopt;  // Flagged for the worst already.
  bool active = false;
  bool training = false;  // Running steps: not while recovering.
  for (const StageInfo& s : state.stages().stages()) {
    active |= s.state() == common::v1::STAGE_STATE_ACTIVE ||
              s.state() == common::v1::STAGE_STATE_RECOVERING;
    training |= s.stage() == common::v1::STAGE_TRAINING &&
                s.state() == common::v1::STAGE_STATE_ACTIVE;
  }
  if (!active) return std::nullopt;
  v1::StallPayload stall;
  *stall.mutable_last_event_time() = p.last_event_time();
  // Silence outranks the training reasons: a job flagged for them is
  // flagged again when it goes silent.
  if (now - FromProto(state.last_receive_time()) >= options.heartbeat_timeout) {
    // A spot pod that goes quiet without a last word, before job-control
    // knows of any interruption, was most likely taken back.
    const bool spot_unexplained =
        state.pricing() == common::v1::PRICING_SPOT &&
        p.job_state() != common::v1::JOB_STATE_RECOVERING;
    stall.set_reason(spot_unexplained
                         ? common::v1::STALL_REASON_SUSPECTED_PREEMPTION
                         : common::v1::STALL_REASON_NO_HEARTBEAT);
    *stall.mutable_since() = state.last_receive_time();
    return stall;
  }
  if (p.stalled() || !training) return std::nullopt;
  if (Has(state.metrics_due_since())) {
    absl::Duration limit = options.min_metric_silence;
    if (std::optional<absl::Duration> interval = ReportingInterval(state)) {
      limit = std::max(limit, options.metric_silence_intervals * *interval);
    }
    if (now - FromProto(state.metrics_due_since()) >= limit) {
      stall.set_reason(common::v1::STALL_REASON_METRIC_SILENCE);
      *stall.mutable_since() = state.metrics_due_since();
      return stall;
    }
  }
  const double baseline = state.baseline_seconds_per_step();
  if (baseline <= 0) return std::nullopt;
  std::optional<double> sps = TypicalSecondsPerStep(state);
  if (sps && *sps > options.speed_drop_factor * baseline) {
    stall.set_reason(common::v1::STALL_REASON_SPEED_DROP);
    *stall.mutable_since() = state.recent_steps(0).time();  // Its window.
    stall.set_seconds_per_step(*sps);
    stall.set_baseline_seconds_per_step(baseline);
    return stall;
  }
  return std::nullopt;
}

absl::Time NextStallCheck(const JobState& state, absl::Time now,
                          const StallOptions& options) {
  const common::v1::Progress& p = state.progress();
  if (!Has(state.last_receive_time()) || !MayStall(state)) {
    return absl::InfiniteFuture();
  }
  const absl::Time silent_at =
      FromProto(state.last_receive_time()) + options.heartbeat_timeout;
  if (p.stalled()) {
    // As DetectStall: flagged for silence, only an event ends it; flagged
    // for a training reason, only silence comes next.
    if (p.stall_reason() != common::v1::STALL_REASON_METRIC_SILENCE &&
        p.stall_reason() != common::v1::STALL_REASON_SPEED_DROP) {
      return absl::InfiniteFuture();
    }
    return silent_at;
  }
  if (state.baseline_seconds_per_step() > 0) return now;
  absl::Time next = silent_at;
  if (Has(state.metrics_due_since())) {
    // The metric silence limit is at least min_metric_silence.
    next = std::min(next, FromProto(state.metrics_due_since()) +
                              options.min_metric_silence);
  }
  return next;
}

JobState NewJobState(std::string_view job_id) {
  JobState state;
  state.set_job_id(std::string(job_id));
  state.mutable_progress()->set_job_id(std::string(job_id));
  state.mutable_progress()->set_attempt(1);
  state.mutable_metrics()->set_job_id(std::string(job_id));
  state.mutable_stages()->set_job_id(std::string(job_id));
  for (Stage s : kStages) {
    StageInfo* info = state.mutable_stages()->add_stages();
    info->set_stage(s);
    info->set_state(common::v1::STAGE_STATE_PENDING);
  }
  return state;
}

std::optional<int64_t> ReportedResumeStep(const v1::Event& event) {
  if (event.attempt() > 1) {
    if (event.has_status() && event.status().has_resumed_from_step()) {
      return event.status().resumed_from_step();
    }
    if (event.has_lifecycle() && event.lifecycle().has_resume_from_step()) {
      return event.lifecycle().resume_from_step();
    }
  }
  return std::nullopt;
}

std::optional<int64_t> ResumeStepOf(const JobState& state,
                                    const v1::Event& event) {
  if (std::optional<int64_t> reported = ReportedResumeStep(event)) {
    return reported;
  }
  if (ResumesImplicitly(state, event)) return 0;
  return std::nullopt;
}

void FoldEvent(const TrackerOptions& options, const v1::Event& event,
               JobState* state) {
  state->set_last_job_seq(event.job_seq());
  common::v1::Progress* p = state->mutable_progress();
  p->set_job_seq(event.job_seq());
  if (event.source() != common::v1::EVENT_SOURCE_CONTROL_PLANE &&
      event.attempt() < p->attempt()) {
    return;  // A late report of a superseded attempt: stored, never current.
  }
  *state->mutable_last_receive_time() = event.receive_time();
  if (event.has_stall()) {
    // Metrics' own warning: flags (or clears) without being a sign of life.
    const v1::StallPayload& stall = event.stall();
    p->set_stalled(!stall.cleared());
    if (stall.cleared()) {
      p->clear_stalled_since();
      p->set_stall_reason(common::v1::STALL_REASON_UNSPECIFIED);
    } else {
      *p->mutable_stalled_since() = stall.since();
      p->set_stall_reason(stall.reason());
    }
    return;
  }
  *p->mutable_last_event_time() = event.occurred_time();
  const int32_t previous_attempt = p->attempt();
  if (event.attempt() > p->attempt()) {
    p->set_attempt(event.attempt());
    state->clear_attempt_step();
    ResetSpeedBaseline(state);  // Maybe another GPU.
    *state->mutable_metrics_due_since() = event.receive_time();
  }
  switch (event.payload_case()) {
    case v1::Event::kMetrics:
      if (ResumesImplicitly(*state, event)) Resume(state, 0, event);
      FoldMetrics(options, event, state);
      break;
    case v1::Event::kStatus:
      FoldStatus(event.status(), event, state);
      break;
    case v1::Event::kError:
      FailStage(state, event.error().code(), event.error().message(),
                event.error().details(), event);
      break;
    case v1::Event::kLifecycle:
      FoldLifecycle(event.lifecycle(), event, previous_attempt, state);
      break;
    default:
      break;
  }
  if (p->stalled() && StallIsOver(options.stall, event, *state)) {
    p->set_stalled(false);
    p->clear_stalled_since();
    p->set_stall_reason(common::v1::STALL_REASON_UNSPECIFIED);
  }
}

common::v1::DurationRange DefaultStageEstimate(Stage stage,
                                               bool model_cache_hit) {
  common::v1::DurationRange r;
  auto set = [&r](absl::Duration lo, absl::Duration hi) {
    *r.mutable_min() = ToProto(lo);
    *r.mutable_max() = ToProto(hi);
  };
  switch (stage) {
    case common::v1::STAGE_PREPROCESSING:
      set(absl::Minutes(2), absl::Minutes(5));
      break;
    case common::v1::STAGE_MODEL_LOADING:
      if (model_cache_hit) {
        set(absl::Minutes(3), absl::Minutes(5));
      } else {
        set(absl::Minutes(10), absl::Minutes(15));
      }
      break;
    case common::v1::STAGE_TRAINING:
      set(absl::Hours(8), absl::Hours(20));
      break;
    case common::v1::STAGE_FINALIZATION:
      set(absl::Minutes(5), absl::Minutes(10));
      break;
    default:
      break;
  }
  return r;
}

common::v1::Progress ProjectProgress(const JobState& state, absl::Time now) {
  common::v1::Progress p = state.progress();
  bool final = IsTerminal(p.job_state());
  absl::Time end = Has(state.end_time()) ? FromProto(state.end_time()) : now;
  if (Has(p.start_time())) {
    absl::Duration total = end - FromProto(p.start_time());
    absl::Duration paused = FromProto(state.paused_total());
    if (Has(state.paused_since())) {
      paused += end - FromProto(state.paused_since());
    }
    *p.mutable_total_elapsed() = ToProto(total);
    *p.mutable_paused_duration() = ToProto(paused);
    *p.mutable_active_elapsed() = ToProto(total - paused);
  }
  std::optional<double> sps = SecondsPerStep(state);
  if (sps) p.set_seconds_per_step(*sps);
  const bool training_failed =
      state.stages().stages(common::v1::STAGE_TRAINING - 1).state() ==
      common::v1::STAGE_STATE_FAILED;
  if (!final && !training_failed && sps && p.total_steps() > 0 &&
      p.stage() == common::v1::STAGE_TRAINING) {
    // R-DASH-03: remaining steps x recent speed, plus finalization's middle.
    common::v1::DurationRange fin =
        DefaultStageEstimate(common::v1::STAGE_FINALIZATION, false);
    absl::Duration remaining =
        absl::Seconds(static_cast<double>(
                          std::max<int64_t>(0, p.total_steps() - p.step())) *
                      *sps) +
        (FromProto(fin.min()) + FromProto(fin.max())) / 2;
    *p.mutable_estimated_remaining() = ToProto(remaining);
    *p.mutable_estimated_completion_time() = ToProto(now + remaining);
  }
  p.set_final(final);
  *p.mutable_as_of() = ToProto(now);
  return p;
}

JobStages ProjectStages(const JobState& state, absl::Time now) {
  JobStages stages = state.stages();
  std::optional<double> sps = SecondsPerStep(state);
  for (StageInfo& info : *stages.mutable_stages()) {
    if (info.state() == common::v1::STAGE_STATE_ACTIVE ||
        info.state() == common::v1::STAGE_STATE_RECOVERING) {
      absl::Time until =
          Has(state.end_time()) ? FromProto(state.end_time()) : now;
      *info.mutable_duration() = ToProto(until - FromProto(info.start_time()));
    }
    if (info.stage() == common::v1::STAGE_TRAINING && sps &&
        state.progress().total_steps() > 0) {
      absl::Duration d = absl::Seconds(
          *sps * static_cast<double>(state.progress().total_steps()));
      *info.mutable_estimated_duration()->mutable_min() = ToProto(d);
      *info.mutable_estimated_duration()->mutable_max() = ToProto(d);
      info.set_estimate_source(common::v1::ESTIMATE_SOURCE_OBSERVED_SPEED);
    } else {
      *info.mutable_estimated_duration() = DefaultStageEstimate(
          info.stage(), info.has_model_cache_hit() && info.model_cache_hit());
      info.set_estimate_source(common::v1::ESTIMATE_SOURCE_DEFAULT);
    }
    info.set_taking_longer_than_usual(
        info.state() == common::v1::STAGE_STATE_ACTIVE &&
        FromProto(info.duration()) >
            FromProto(info.estimated_duration().max()) &&
        info.estimate_source() != common::v1::ESTIMATE_SOURCE_OBSERVED_SPEED);
  }
  *stages.mutable_as_of() = ToProto(now);
  return stages;
}

}  // namespace trainyard::metrics
