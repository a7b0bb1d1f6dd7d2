// Copyright 2026 Trainyard authors.
#include "services/scheduler/app/scheduler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/time/proto_time.h"
#include "services/scheduler/domain/analytics.h"
#include "services/scheduler/domain/errors.h"
#include "services/scheduler/domain/promotion_rules.h"

namespace trainyard::scheduler {
namespace {

using common::v1::NotificationTrigger;

std::string TriggerName(NotificationTrigger t) {
  std::string name = common::v1::NotificationTrigger_Name(t);
  return name.substr(sizeof("NOTIFICATION_TRIGGER_") - 1);
}

std::string SettingsEtag(const v1::QueueSettings& s) {
  return absl::StrCat("\"", absl::ToUnixMicros(FromProto(s.update_time())),
                      "\"");
}

}  // namespace

Scheduler::Scheduler(SchedulerStore& store, const Clock& clock,
                     ProgressSource* progress, notify::Notifier* notifier,
                     SchedulerMetrics* metrics, SchedulerOptions options)
    : store_(store),
      clock_(clock),
      progress_source_(progress),
      notifier_(notifier),
      metrics_(metrics),
      options_(std::move(options)) {}

// ---------------------------------------------------------------------------
// Loading and committing

absl::Status Scheduler::Load() {
  Txn txn;
  {
    absl::MutexLock lock(&mu_);
    RETURN_IF_ERROR(LoadLocked());
    DispatchLocked(txn, clock_.Now());
    RETURN_IF_ERROR(CommitLocked(txn));
  }
  Published(txn);
  return absl::OkStatus();
}

absl::Status Scheduler::LoadLocked() {
  ASSIGN_OR_RETURN(StoredState stored, store_.LoadAll());
  settings_ = stored.settings.value_or(DefaultSettings());
  if (settings_.etag().empty()) settings_.set_etag(SettingsEtag(settings_));
  counters_ = stored.counters;
  jobs_.clear();
  queue_.clear();
  held_.clear();
  for (auto& job : stored.jobs) {
    const std::string id = job.entry().job_id();
    if (job.phase() == internal::PHASE_QUEUED)
      queue_.insert(KeyOf(job.entry()));
    if (job.phase() == internal::PHASE_RUNNING)
      held_[job.assignment_seq()] = id;
    jobs_[id] = std::move(job);
  }
  promotions_.clear();
  pending_by_job_.clear();
  for (auto& p : stored.promotions) {
    if (p.state() == v1::PROMOTION_STATE_PENDING) {
      pending_by_job_[p.job_id()] = p.promotion_id();
    }
    promotions_[p.promotion_id()] = std::move(p);
  }
  starts_ = std::move(stored.starts);
  std::sort(starts_.begin(), starts_.end(), [](const auto& a, const auto& b) {
    return FromProto(a.start_time()) < FromProto(b.start_time());
  });
  run_ratios_.clear();
  for (const auto& s : starts_) {
    if (s.run_ratio() > 0) run_ratios_.push_back(s.run_ratio());
  }
  calibration_ = CalibrationFactor(run_ratios_);
  notify_.clear();
  for (auto& s : stored.notification_settings) {
    std::string job = s.job_id(), user = s.user().user_id();
    notify_[job][user] = std::move(s);
  }
  max_depth_by_day_ = std::move(stored.max_depth_by_day);
  estimates_dirty_ = true;
  return absl::OkStatus();
}

absl::Status Scheduler::CommitLocked(Txn& txn) {
  const absl::Time now = clock_.Now();
  NotifyPositionsLocked(txn, now);
  for (const std::string& id : txn.jobs) {
    auto it = jobs_.find(id);
    if (it != jobs_.end()) SchedulerStore::StageJob(txn.batch, it->second);
  }
  for (const std::string& id : txn.promotions) {
    SchedulerStore::StagePromotion(txn.batch, promotions_.at(id));
  }
  if (txn.counters) SchedulerStore::StageCounters(txn.batch, counters_);
  const int depth = static_cast<int>(queue_.size());
  const absl::Time day = DayOf(now);
  auto day_it = max_depth_by_day_.find(day);
  if (day_it == max_depth_by_day_.end() || day_it->second < depth) {
    max_depth_by_day_[day] = depth;
    SchedulerStore::StageDayDepth(txn.batch, day, depth);
  }
  if (txn.batch.empty()) return absl::OkStatus();
  absl::Status written = store_.Write(txn.batch);
  if (!written.ok()) {
    // Nothing of the change is durable: forget it in memory too.
    absl::Status reloaded = LoadLocked();
    txn = Txn();
    if (!reloaded.ok()) return reloaded;
    return written;
  }
  estimates_dirty_ = true;
  ++version_;
  if (metrics_ != nullptr) {
    metrics_->SetState(depth, static_cast<int>(held_.size()), limit());
  }
  return absl::OkStatus();
}

void Scheduler::Published(Txn& txn) {
  if (metrics_ != nullptr) {
    for (const auto& s : txn.assigned) {
      metrics_->Assigned(
          absl::ToDoubleSeconds(FromProto(s.start_time()) -
                                FromProto(s.enqueue_time())),
          absl::ToDoubleSeconds(FromProto(s.start_time()) -
                                FromProto(s.initial_estimated_start_time())));
    }
    for (const auto& outcome : txn.promotion_outcomes) {
      metrics_->Promotion(outcome);
    }
    for (const auto& n : txn.notifications) metrics_->Notification(n.kind);
  }
  if (notifier_ != nullptr) {
    for (auto& n : txn.notifications) notifier_->Send(std::move(n));
  }
  std::vector<std::function<void()>> wake;
  {
    absl::MutexLock lock(&listeners_mu_);
    for (const auto& [id, fn] : listeners_) wake.push_back(fn);
  }
  for (const auto& fn : wake) fn();
}

int Scheduler::AddListener(std::function<void()> wake) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_[++next_listener_] = std::move(wake);
  return next_listener_;
}

void Scheduler::RemoveListener(int id) {
  absl::MutexLock lock(&listeners_mu_);
  listeners_.erase(id);
}

// ---------------------------------------------------------------------------
// Idempotency

absl::StatusOr<std::optional<std::string>> Scheduler::ReplayLocked(
    const std::string& request_id, const std::string& fingerprint) const {
  if (request_id.empty()) return std::nullopt;
  ASSIGN_OR_RETURN(std::optional<internal::RequestRecord> record,
                   store_.FindRequest(request_id));
  if (!record.has_value()) return std::nullopt;
  if (record->fingerprint() != fingerprint) {
    return InvalidFieldError("request_id",
                             "already used for a different request");
  }
  return record->response();
}

void Scheduler::RecordLocked(Txn& txn, const std::string& request_id,
                             const std::string& fingerprint,
                             const google::protobuf::MessageLite& answer,
                             absl::Time now) {
  if (request_id.empty()) return;
  internal::RequestRecord record;
  record.set_fingerprint(fingerprint);
  record.set_response(answer.SerializeAsString());
  *record.mutable_time() = ToProto(now);
  SchedulerStore::StageRequest(txn.batch, request_id, record);
}

// ---------------------------------------------------------------------------
// Queue and slots

absl::StatusOr<v1::QueueEntry> Scheduler::Enqueue(const EnqueueCommand& cmd) {
  const std::string& id = cmd.entry.job_id();
  const std::string fingerprint =
      absl::StrCat("Enqueue/", id, "/", cmd.entry.attempt());
  Txn txn;
  v1::QueueEntry answer;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    ASSIGN_OR_RETURN(std::optional<std::string> replay,
                     ReplayLocked(cmd.request_id, fingerprint));
    auto it = jobs_.find(id);
    if (it != jobs_.end()) {
      internal::JobRecord& job = it->second;
      const int current = job.entry().attempt();
      if (cmd.entry.attempt() < current) {
        return WithReason(
            absl::FailedPreconditionError(absl::StrCat(
                "attempt ", cmd.entry.attempt(), " is older than attempt ",
                current, " already enqueued")),
            kReasonStaleAttempt);
      }
      if (cmd.entry.attempt() == current || replay.has_value()) {
        return EntryLocked(job, now);  // the same attempt: no second entry
      }
      if (job.phase() == internal::PHASE_RUNNING) {
        return WithReason(absl::FailedPreconditionError(absl::StrCat(
                              "job ", id, " holds a slot (attempt ",
                              job.assignment().attempt(), ")")),
                          kReasonJobHoldsSlot);
      }
      if (job.phase() == internal::PHASE_QUEUED)
        queue_.erase(KeyOf(job.entry()));
    }
    internal::JobRecord job;
    job.set_phase(internal::PHASE_QUEUED);
    *job.mutable_entry() = cmd.entry;
    *job.mutable_entry()->mutable_enqueue_time() = ToProto(now);
    // A promotion moves one stay in the queue (R-Q-05); a new attempt
    // starts unpromoted.
    job.mutable_entry()->set_promoted(false);
    job.mutable_entry()->clear_promote_time();
    queue_.insert(KeyOf(job.entry()));
    jobs_[id] = job;
    estimates_dirty_ = true;
    EnsureEstimatesLocked();
    const StartEstimate& estimate = estimates_[index_.at(id)];
    internal::JobRecord& stored = jobs_[id];
    *stored.mutable_entry()->mutable_initial_estimated_start_time() =
        ToProto(estimate.start);
    stored.set_initial_confidence(estimate.confidence);
    txn.jobs.insert(id);
    if (!cmd.triggers.empty()) {
      v1::QueueNotificationSettings& s =
          notify_[id][cmd.entry.created_by().user_id()];
      s.set_job_id(id);
      *s.mutable_user() = cmd.entry.created_by();
      s.clear_triggers();
      for (auto t : cmd.triggers) s.add_triggers(t);
      s.clear_targets();
      for (const auto& t : cmd.targets) *s.add_targets() = t;
      *s.mutable_update_time() = ToProto(now);
      SchedulerStore::StageNotificationSettings(txn.batch, s);
    }
    DispatchLocked(txn, now);
    answer = EntryLocked(jobs_[id], now);
    RecordLocked(txn, cmd.request_id, fingerprint, v1::QueueEntry(), now);
    RETURN_IF_ERROR(CommitLocked(txn));
  }
  Published(txn);
  return answer;
}

absl::StatusOr<bool> Scheduler::Remove(const RemoveCommand& cmd) {
  const std::string fingerprint =
      absl::StrCat("Remove/", cmd.job_id, "/", cmd.attempt);
  Txn txn;
  v1::RemoveFromQueueResponse answer;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    ASSIGN_OR_RETURN(std::optional<std::string> replay,
                     ReplayLocked(cmd.request_id, fingerprint));
    if (replay.has_value()) {
      answer.ParseFromString(*replay);
      return answer.removed();
    }
    auto it = jobs_.find(cmd.job_id);
    if (it != jobs_.end() && it->second.phase() == internal::PHASE_QUEUED &&
        (cmd.attempt == 0 || cmd.attempt >= it->second.entry().attempt())) {
      internal::JobRecord& job = it->second;
      queue_.erase(KeyOf(job.entry()));
      job.set_phase(internal::PHASE_REMOVED);
      txn.jobs.insert(cmd.job_id);
      EndPendingPromotionLocked(txn, cmd.job_id, v1::PROMOTION_STATE_OBSOLETE,
                                now);
      answer.set_removed(true);
    }
    RecordLocked(txn, cmd.request_id, fingerprint, answer, now);
    RETURN_IF_ERROR(CommitLocked(txn));
  }
  Published(txn);
  return answer.removed();
}

absl::StatusOr<bool> Scheduler::Release(const ReleaseCommand& cmd) {
  const std::string fingerprint =
      absl::StrCat("Release/", cmd.job_id, "/", cmd.attempt, "/",
                   cmd.assignment_id, "/", cmd.outcome);
  Txn txn;
  v1::ReleaseSlotResponse answer;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    ASSIGN_OR_RETURN(std::optional<std::string> replay,
                     ReplayLocked(cmd.request_id, fingerprint));
    if (replay.has_value()) {
      answer.ParseFromString(*replay);
      return answer.released();
    }
    auto it = jobs_.find(cmd.job_id);
    if (it == jobs_.end())
      return JobNotFoundError(cmd.job_id, "is not known here");
    internal::JobRecord& job = it->second;
    const bool holds =
        job.phase() == internal::PHASE_RUNNING &&
        (cmd.assignment_id.empty()
             ? cmd.attempt >= job.assignment().attempt()
             : cmd.assignment_id == job.assignment().assignment_id());
    if (holds) {
      FreeSlotLocked(job);
      job.set_last_outcome(cmd.outcome);
      if (cmd.outcome == v1::SLOT_OUTCOME_REQUEUE) {
        // Back at its creation-time place; the start does not count.
        job.set_phase(internal::PHASE_QUEUED);
        queue_.insert(KeyOf(job.entry()));
        auto start =
            std::find_if(starts_.begin(), starts_.end(), [&](const auto& s) {
              return s.assignment_id() == job.assignment().assignment_id();
            });
        if (start != starts_.end()) {
          SchedulerStore::StageDeleteStart(txn.batch, *start);
          starts_.erase(start);
        }
      } else {
        job.set_phase(internal::PHASE_RELEASED);
        if (cmd.outcome == v1::SLOT_OUTCOME_COMPLETED) {
          RecordRunLocked(txn, job, now);
        }
      }
      txn.jobs.insert(cmd.job_id);
      answer.set_released(true);
      DispatchLocked(txn, now);
    }
    RecordLocked(txn, cmd.request_id, fingerprint, answer, now);
    RETURN_IF_ERROR(CommitLocked(txn));
  }
  Published(txn);
  return answer.released();
}

void Scheduler::FreeSlotLocked(internal::JobRecord& job) {
  held_.erase(job.assignment_seq());
}

void Scheduler::RecordRunLocked(Txn& txn, const internal::JobRecord& job,
                                absl::Time now) {
  const absl::Duration estimated = FromProto(job.entry().estimated_duration());
  const absl::Duration held = now - FromProto(job.assignment().assign_time());
  if (estimated <= absl::ZeroDuration() || held <= absl::ZeroDuration()) return;
  for (auto it = starts_.rbegin(); it != starts_.rend(); ++it) {
    if (it->assignment_id() != job.assignment().assignment_id()) continue;
    it->set_run_ratio(absl::FDivDuration(held, estimated));
    SchedulerStore::StageStart(txn.batch, *it);
    run_ratios_.push_back(it->run_ratio());
    calibration_ = CalibrationFactor(run_ratios_);
    return;
  }
}

void Scheduler::DispatchLocked(Txn& txn, absl::Time now) {
  while (static_cast<int>(held_.size()) < limit() && !queue_.empty()) {
    const std::string id = queue_.begin()->job_id;
    queue_.erase(queue_.begin());
    internal::JobRecord& job = jobs_.at(id);
    std::set<int> used;
    for (const auto& [seq, holder] : held_) {
      used.insert(jobs_.at(holder).assignment().slot_index());
    }
    int index = 1;
    while (used.count(index) > 0) ++index;
    const uint64_t seq = counters_.last_assignment_seq() + 1;
    counters_.set_last_assignment_seq(seq);
    txn.counters = true;
    v1::Assignment& a = *job.mutable_assignment();
    a.Clear();
    a.set_assignment_id(absl::StrCat("a-", seq));
    a.set_job_id(id);
    a.set_attempt(job.entry().attempt());
    a.set_slot_index(index);
    *a.mutable_assign_time() = ToProto(now);
    *a.mutable_wait() = ToProto(now - FromProto(job.entry().enqueue_time()));
    job.set_assignment_seq(seq);
    job.set_phase(internal::PHASE_RUNNING);
    held_[seq] = id;
    txn.jobs.insert(id);

    internal::StartRecord start;
    start.set_job_id(id);
    start.set_attempt(a.attempt());
    start.set_assignment_id(a.assignment_id());
    *start.mutable_enqueue_time() = job.entry().enqueue_time();
    *start.mutable_start_time() = a.assign_time();
    *start.mutable_initial_estimated_start_time() =
        job.entry().initial_estimated_start_time();
    start.set_initial_confidence(job.initial_confidence());
    SchedulerStore::StageStart(txn.batch, start);
    starts_.push_back(start);
    txn.assigned.push_back(start);

    EndPendingPromotionLocked(txn, id, v1::PROMOTION_STATE_OBSOLETE, now);
    NotifyLocked(txn, job,
                 common::v1::NOTIFICATION_TRIGGER_PROVISIONING_STARTED,
                 absl::StrCat("\"", job.entry().display_name(),
                              "\" got a GPU slot: provisioning started"),
                 now);
  }
}

std::vector<SequencedAssignment> Scheduler::AssignmentsAfter(uint64_t after,
                                                             size_t max) const {
  absl::MutexLock lock(&mu_);
  std::vector<SequencedAssignment> out;
  for (auto it = held_.upper_bound(after);
       it != held_.end() && out.size() < max; ++it) {
    out.push_back({it->first, jobs_.at(it->second).assignment()});
  }
  return out;
}

uint64_t Scheduler::last_assignment_seq() const {
  absl::MutexLock lock(&mu_);
  return counters_.last_assignment_seq();
}

absl::StatusOr<v1::ReconcileResponse> Scheduler::Reconcile(
    const std::vector<HeldJobView>& held, uint64_t cursor_seq,
    bool validate_only) {
  Txn txn;
  v1::ReconcileResponse out;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    *out.mutable_grace_period() = ToProto(options_.reconcile_grace);
    absl::flat_hash_map<std::string, const HeldJobView*> by_job;
    for (const auto& h : held) by_job[h.job_id] = &h;
    auto held_here = [&](const internal::JobRecord& job,
                         const HeldJobView& view) {
      return job.phase() == internal::PHASE_RUNNING &&
             (view.assignment_id.empty()
                  ? view.attempt >= job.assignment().attempt()
                  : view.assignment_id == job.assignment().assignment_id());
    };
    std::vector<std::string> to_free;
    for (const auto& [seq, id] : held_) {
      const internal::JobRecord& job = jobs_.at(id);
      auto view = by_job.find(id);
      if (view != by_job.end() && held_here(job, *view->second)) continue;
      const bool in_flight =
          seq > cursor_seq || now - FromProto(job.assignment().assign_time()) <
                                  options_.reconcile_grace;
      *(in_flight ? out.add_kept() : out.add_released()) = job.assignment();
      if (!in_flight) to_free.push_back(id);
    }
    for (const auto& h : held) {
      auto it = jobs_.find(h.job_id);
      if (it == jobs_.end() || !held_here(it->second, h)) {
        v1::HeldJob& u = *out.add_unknown();
        u.set_job_id(h.job_id);
        u.set_assignment_id(h.assignment_id);
        u.set_attempt(h.attempt);
      }
    }
    if (validate_only || to_free.empty()) return out;
    for (const std::string& id : to_free) {
      internal::JobRecord& job = jobs_.at(id);
      FreeSlotLocked(job);
      job.set_phase(internal::PHASE_RELEASED);
      job.set_last_outcome(v1::SLOT_OUTCOME_UNSPECIFIED);
      txn.jobs.insert(id);
    }
    DispatchLocked(txn, now);
    RETURN_IF_ERROR(CommitLocked(txn));
  }
  Published(txn);
  return out;
}

// ---------------------------------------------------------------------------
// Estimates and views

std::vector<RunningJob> Scheduler::RunningLocked(absl::Time now) const {
  std::vector<RunningJob> running;
  running.reserve(held_.size());
  for (const auto& [seq, id] : held_) {
    const internal::JobRecord& job = jobs_.at(id);
    std::optional<absl::Duration> measured;
    auto p = progress_.find(id);
    if (p != progress_.end() && p->second.has_seconds_per_step() &&
        p->second.has_estimated_remaining() && !p->second.stalled()) {
      measured = FromProto(p->second.estimated_remaining()) -
                 (now - FromProto(p->second.as_of()));
    }
    running.push_back(RemainingOf(
        measured, FromProto(job.entry().estimated_duration()) * calibration_,
        FromProto(job.assignment().assign_time()), now));
  }
  return running;
}

std::vector<StartEstimate> Scheduler::SimulateLocked(
    const std::vector<std::string>& order, absl::Time now) const {
  std::vector<absl::Duration> durations;
  durations.reserve(order.size());
  for (const std::string& id : order) {
    durations.push_back(FromProto(jobs_.at(id).entry().estimated_duration()) *
                        calibration_);
  }
  return EstimateStarts(RunningLocked(now), durations, limit(),
                        FromProto(settings_.provisioning_buffer()), now);
}

void Scheduler::EnsureEstimatesLocked() {
  if (!estimates_dirty_) return;
  const absl::Time now = clock_.Now();
  order_.clear();
  order_.reserve(queue_.size());
  index_.clear();
  for (const QueueKey& key : queue_) {
    index_[key.job_id] = order_.size();
    order_.push_back(key.job_id);
  }
  estimates_ = SimulateLocked(order_, now);
  estimates_at_ = now;
  estimates_dirty_ = false;
}

v1::QueueEntry Scheduler::EntryLocked(const internal::JobRecord& job,
                                      absl::Time now) {
  v1::QueueEntry entry = job.entry();
  *entry.mutable_as_of() = ToProto(now);
  if (job.phase() != internal::PHASE_QUEUED) return entry;  // position 0
  EnsureEstimatesLocked();
  size_t i = index_.at(entry.job_id());
  entry.set_position(static_cast<int32_t>(i + 1));
  entry.set_jobs_ahead(static_cast<int32_t>(i));
  *entry.mutable_estimated_start_time() = ToProto(estimates_[i].start);
  *entry.mutable_estimated_wait() =
      ToProto(std::max(estimates_[i].start - now, absl::ZeroDuration()));
  entry.set_confidence(estimates_[i].confidence);
  auto pending = pending_by_job_.find(entry.job_id());
  if (pending != pending_by_job_.end()) {
    entry.set_pending_promotion_id(pending->second);
  }
  return entry;
}

v1::Slot Scheduler::SlotLocked(const internal::JobRecord& job) const {
  v1::Slot slot;
  slot.set_slot_index(job.assignment().slot_index());
  slot.set_job_id(job.entry().job_id());
  slot.set_display_name(job.entry().display_name());
  *slot.mutable_created_by() = job.entry().created_by();
  *slot.mutable_config() = job.entry().config();
  *slot.mutable_assign_time() = job.assignment().assign_time();
  slot.set_assignment_id(job.assignment().assignment_id());
  slot.set_attempt(job.assignment().attempt());
  auto it = progress_.find(job.entry().job_id());
  if (it != progress_.end()) {
    const common::v1::Progress& p = it->second;
    slot.set_job_state(p.job_state());
    common::v1::ProgressSummary& s = *slot.mutable_progress();
    s.set_step(p.step());
    s.set_total_steps(p.total_steps());
    s.set_percent(p.percent());
    s.set_epoch(p.epoch());
    s.set_total_epochs(p.total_epochs());
    s.set_stage(p.stage());
    *s.mutable_estimated_remaining() = p.estimated_remaining();
    *s.mutable_estimated_completion_time() = p.estimated_completion_time();
    s.set_stalled(p.stalled());
    *s.mutable_as_of() = p.as_of();
  }
  return slot;
}

absl::StatusOr<v1::QueueEntry> Scheduler::GetEntry(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end() || it->second.phase() != internal::PHASE_QUEUED) {
    return JobNotQueued(job_id);
  }
  return EntryLocked(it->second, clock_.Now());
}

Scheduler::EntryPage Scheduler::ListEntries(
    const std::function<bool(const v1::QueueEntry&)>& match, int offset,
    int limit) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  EnsureEstimatesLocked();
  EntryPage page;
  if (!match) {
    page.total = static_cast<int>(order_.size());
    for (size_t i = offset;
         i < order_.size() && page.entries.size() < static_cast<size_t>(limit);
         ++i) {
      page.entries.push_back(EntryLocked(jobs_.at(order_[i]), now));
    }
    page.more = offset + static_cast<int>(page.entries.size()) < page.total;
    return page;
  }
  for (const std::string& id : order_) {
    v1::QueueEntry entry = EntryLocked(jobs_.at(id), now);
    if (!match(entry)) continue;
    if (page.total >= offset &&
        page.entries.size() < static_cast<size_t>(limit)) {
      page.entries.push_back(std::move(entry));
    }
    ++page.total;
  }
  page.more = offset + static_cast<int>(page.entries.size()) < page.total;
  return page;
}

std::vector<v1::Slot> Scheduler::Slots() {
  absl::MutexLock lock(&mu_);
  std::vector<v1::Slot> slots;
  for (const auto& [seq, id] : held_) slots.push_back(SlotLocked(jobs_.at(id)));
  std::sort(slots.begin(), slots.end(), [](const auto& a, const auto& b) {
    return a.slot_index() < b.slot_index();
  });
  return slots;
}

v1::QueueStatus Scheduler::StatusLocked(absl::Time now) {
  v1::QueueStatus s;
  const int depth = static_cast<int>(queue_.size());
  const int used = static_cast<int>(held_.size());
  s.set_depth(depth);
  s.set_depth_level(
      DepthLevelOf(depth, limit(), settings_.long_queue_threshold()));
  s.set_concurrency_limit(limit());
  s.set_used_slots(used);
  s.set_available_slots(std::max(0, limit() - used));
  s.set_long_queue_threshold(settings_.long_queue_threshold());
  s.set_warning_text(LongQueueWarning(depth, settings_.long_queue_threshold()));
  s.set_long_queue_warning(!s.warning_text().empty());
  s.set_pending_promotions(static_cast<int32_t>(pending_by_job_.size()));
  if (auto next = NextSlotFree(RunningLocked(now), now)) {
    *s.mutable_next_slot_free_time() = ToProto(*next);
  }
  *s.mutable_as_of() = ToProto(now);
  return s;
}

v1::QueueStatus Scheduler::Status() {
  absl::MutexLock lock(&mu_);
  return StatusLocked(clock_.Now());
}

v1::QueueSnapshot Scheduler::Snapshot(int max_entries) {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  EnsureEstimatesLocked();
  v1::QueueSnapshot snap;
  *snap.mutable_status() = StatusLocked(now);
  for (size_t i = 0; i < order_.size() && i < static_cast<size_t>(max_entries);
       ++i) {
    *snap.add_entries() = EntryLocked(jobs_.at(order_[i]), now);
  }
  std::vector<v1::Slot> slots;
  for (const auto& [seq, id] : held_) slots.push_back(SlotLocked(jobs_.at(id)));
  std::sort(slots.begin(), slots.end(), [](const auto& a, const auto& b) {
    return a.slot_index() < b.slot_index();
  });
  for (auto& s : slots) *snap.add_slots() = std::move(s);
  snap.set_version(version_);
  return snap;
}

uint64_t Scheduler::version() const {
  absl::MutexLock lock(&mu_);
  return version_;
}

// ---------------------------------------------------------------------------
// Settings

v1::QueueSettings Scheduler::Settings() const {
  absl::MutexLock lock(&mu_);
  return settings_;
}

absl::StatusOr<v1::QueueSettings> Scheduler::UpdateSettings(
    const v1::QueueSettings& update, const std::vector<std::string>& paths,
    const auth::Principal& by) {
  Txn txn;
  v1::QueueSettings next;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    if (update.etag() != settings_.etag()) {
      return EtagMismatchError("the queue settings", settings_.etag());
    }
    ASSIGN_OR_RETURN(next, ApplySettingsUpdate(settings_, update, paths));
    // Strictly later than the last update, so the etag always changes.
    absl::Time stamp = std::max(
        now, FromProto(settings_.update_time()) + absl::Microseconds(1));
    *next.mutable_update_time() = ToProto(stamp);
    next.mutable_updated_by()->set_user_id(by.user);
    next.set_etag(SettingsEtag(next));
    settings_ = next;
    SchedulerStore::StageSettings(txn.batch, settings_);
    // Raising the limit starts queued jobs at once; lowering never preempts.
    DispatchLocked(txn, now);
    RETURN_IF_ERROR(CommitLocked(txn));
  }
  Published(txn);
  return next;
}

// ---------------------------------------------------------------------------
// Promotions

void Scheduler::EndPendingPromotionLocked(Txn& txn, const std::string& job_id,
                                          v1::PromotionState state,
                                          absl::Time now) {
  auto it = pending_by_job_.find(job_id);
  if (it == pending_by_job_.end()) return;
  v1::Promotion& p = promotions_.at(it->second);
  p.set_state(state);
  *p.mutable_decide_time() = ToProto(now);
  p.set_etag(PromotionEtag(p));
  txn.promotions.insert(p.promotion_id());
  txn.promotion_outcomes.push_back(PromotionOutcome::kObsolete);
  pending_by_job_.erase(it);
}

bool Scheduler::ExpirePromotionsLocked(Txn& txn, absl::Time now) {
  bool any = false;
  for (auto it = pending_by_job_.begin(); it != pending_by_job_.end();) {
    v1::Promotion& p = promotions_.at(it->second);
    if (ExpireIfDue(p, now)) {
      txn.promotions.insert(p.promotion_id());
      txn.promotion_outcomes.push_back(PromotionOutcome::kExpired);
      txn.notifications.push_back(
          {"PROMOTION_EXPIRED", p.job_id(), p.requester().user_id(),
           absl::StrCat("Your promotion request for \"", p.job_display_name(),
                        "\" expired without a decision"),
           now});
      pending_by_job_.erase(it++);
      any = true;
    } else {
      ++it;
    }
  }
  return any;
}

absl::StatusOr<v1::Promotion> Scheduler::RequestPromotion(
    const PromotionCommand& cmd, const auth::Principal& by) {
  const std::string fingerprint =
      absl::StrCat("Promote/", cmd.job_id, "/", by.user);
  Txn txn;
  v1::Promotion p;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    ExpirePromotionsLocked(txn, now);
    if (!cmd.validate_only) {
      ASSIGN_OR_RETURN(std::optional<std::string> replay,
                       ReplayLocked(cmd.request_id, fingerprint));
      if (replay.has_value()) {
        v1::Promotion recorded;
        recorded.ParseFromString(*replay);
        return promotions_.at(recorded.promotion_id());
      }
    }
    auto it = jobs_.find(cmd.job_id);
    if (it == jobs_.end())
      return JobNotFoundError(cmd.job_id, "is not known here");
    const internal::JobRecord& job = it->second;
    if (job.phase() != internal::PHASE_QUEUED) {
      return JobNotQueuedForPromotion(cmd.job_id);
    }
    if (job.entry().promoted()) {
      return WithReason(
          absl::FailedPreconditionError("job is already promoted"),
          kReasonAlreadyPromoted);
    }
    if (pending_by_job_.contains(cmd.job_id)) {
      return WithReason(absl::AlreadyExistsError(absl::StrCat(
                            "promotion ", pending_by_job_.at(cmd.job_id),
                            " of this job is pending")),
                        kReasonPromotionPending);
    }
    // Impact: the queue as it is, and with the job after the promoted ones.
    EnsureEstimatesLocked();
    const size_t from = index_.at(cmd.job_id);
    size_t to = 0;
    while (to < order_.size() && jobs_.at(order_[to]).entry().promoted()) ++to;
    std::vector<std::string> after = order_;
    after.erase(after.begin() + from);
    after.insert(after.begin() + to, cmd.job_id);
    std::vector<StartEstimate> estimated_after = SimulateLocked(after, now);
    std::vector<absl::Time> before_starts, after_starts(order_.size());
    for (const auto& e : estimates_) before_starts.push_back(e.start);
    for (size_t i = 0; i < after.size(); ++i) {
      after_starts[index_.at(after[i])] = estimated_after[i].start;
    }
    if (!cmd.validate_only) {
      p.set_promotion_id(
          absl::StrCat("p-", counters_.last_promotion_seq() + 1));
    }
    p.set_job_id(cmd.job_id);
    p.set_job_display_name(job.entry().display_name());
    p.mutable_requester()->set_user_id(by.user);
    p.set_reason(cmd.reason);
    p.set_justification(cmd.justification);
    p.set_state(v1::PROMOTION_STATE_PENDING);
    *p.mutable_create_time() = ToProto(now);
    *p.mutable_expire_time() =
        ToProto(now + FromProto(settings_.promotion_expiry()));
    *p.mutable_impact() =
        ImpactOf(static_cast<int>(from + 1), static_cast<int>(to + 1), order_,
                 before_starts, after_starts);
    p.set_etag(PromotionEtag(p));
    if (cmd.validate_only) return p;
    counters_.set_last_promotion_seq(counters_.last_promotion_seq() + 1);
    txn.counters = true;
    promotions_[p.promotion_id()] = p;
    pending_by_job_[cmd.job_id] = p.promotion_id();
    txn.promotions.insert(p.promotion_id());
    txn.promotion_outcomes.push_back(PromotionOutcome::kRequested);
    txn.jobs.insert(cmd.job_id);  // its entry names the pending request
    txn.notifications.push_back(
        {"PROMOTION_REQUESTED", cmd.job_id, "approvers",
         absl::StrCat(by.user, " asks to move \"", job.entry().display_name(),
                      "\" to the front of the queue (promotion ",
                      p.promotion_id(), "). ", p.impact().summary(), "."),
         now, options_.approvals_destination});
    RecordLocked(txn, cmd.request_id, fingerprint, p, now);
    RETURN_IF_ERROR(CommitLocked(txn));
  }
  Published(txn);
  return p;
}

absl::StatusOr<std::pair<v1::Promotion, v1::QueueEntry>>
Scheduler::ApprovePromotion(const std::string& id, const std::string& etag,
                            const std::string& comment,
                            const auth::Principal& by) {
  Txn txn;
  std::pair<v1::Promotion, v1::QueueEntry> out;
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    auto it = promotions_.find(id);
    if (it == promotions_.end()) {
      return PromotionNotFound(id);
    }
    ExpirePromotionsLocked(txn, now);
    v1::Promotion& p = it->second;
    refused = CheckDecision(p, by, etag, comment);
    if (refused.ok()) {
      internal::JobRecord& job = jobs_.at(p.job_id());
      queue_.erase(KeyOf(job.entry()));
      job.mutable_entry()->set_promoted(true);
      *job.mutable_entry()->mutable_promote_time() = ToProto(now);
      queue_.insert(KeyOf(job.entry()));
      estimates_dirty_ = true;
      Decide(p, v1::PROMOTION_STATE_APPROVED, by, comment, now);
      pending_by_job_.erase(p.job_id());
      txn.jobs.insert(p.job_id());
      txn.promotions.insert(id);
      txn.promotion_outcomes.push_back(PromotionOutcome::kApproved);
      std::string text = absl::StrCat("Promotion of \"", p.job_display_name(),
                                      "\" approved by ", by.user);
      txn.notifications.push_back({"PROMOTION_APPROVED", p.job_id(),
                                   p.requester().user_id(), text, now});
      if (job.entry().created_by().user_id() != p.requester().user_id()) {
        txn.notifications.push_back({"PROMOTION_APPROVED", p.job_id(),
                                     job.entry().created_by().user_id(), text,
                                     now});
      }
      out = {p, EntryLocked(job, now)};
    }
    // An expiry found on the way is recorded even when the decision fails.
    RETURN_IF_ERROR(CommitLocked(txn));
  }
  Published(txn);
  RETURN_IF_ERROR(refused);
  return out;
}

absl::StatusOr<v1::Promotion> Scheduler::DenyPromotion(
    const std::string& id, const std::string& etag, const std::string& comment,
    const auth::Principal& by) {
  Txn txn;
  v1::Promotion out;
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    auto it = promotions_.find(id);
    if (it == promotions_.end()) {
      return PromotionNotFound(id);
    }
    ExpirePromotionsLocked(txn, now);
    v1::Promotion& p = it->second;
    refused = CheckDecision(p, by, etag, comment);
    if (refused.ok()) {
      Decide(p, v1::PROMOTION_STATE_DENIED, by, comment, now);
      pending_by_job_.erase(p.job_id());
      txn.jobs.insert(p.job_id());
      txn.promotions.insert(id);
      txn.promotion_outcomes.push_back(PromotionOutcome::kDenied);
      txn.notifications.push_back(
          {"PROMOTION_DENIED", p.job_id(), p.requester().user_id(),
           absl::StrCat("Promotion of \"", p.job_display_name(),
                        "\" denied by ", by.user, comment.empty() ? "" : ": ",
                        comment),
           now});
      out = p;
    }
    RETURN_IF_ERROR(CommitLocked(txn));
  }
  Published(txn);
  RETURN_IF_ERROR(refused);
  return out;
}

absl::StatusOr<v1::Promotion> Scheduler::GetPromotion(const std::string& id) {
  absl::MutexLock lock(&mu_);
  auto it = promotions_.find(id);
  if (it == promotions_.end()) {
    return PromotionNotFound(id);
  }
  v1::Promotion p = it->second;
  ExpireIfDue(p, clock_.Now());  // shown as it is; recorded at the next tick
  return p;
}

std::vector<v1::Promotion> Scheduler::Promotions() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();
  std::vector<v1::Promotion> out;
  out.reserve(promotions_.size());
  for (const auto& [id, p] : promotions_) {
    out.push_back(p);
    ExpireIfDue(out.back(), now);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return FromProto(a.create_time()) > FromProto(b.create_time());
  });
  return out;
}

// ---------------------------------------------------------------------------
// Analytics, notifications, periodic work

v1::GetQueueAnalyticsResponse Scheduler::Analytics(absl::Time start,
                                                   absl::Time end) {
  absl::MutexLock lock(&mu_);
  v1::GetQueueAnalyticsResponse out =
      ComputeAnalytics(starts_, start, end, max_depth_by_day_);
  const int depth = static_cast<int>(queue_.size());
  out.set_current_depth(depth);
  out.mutable_estimate_accuracy()->set_calibration_factor(calibration_);
  out.set_depth_level(
      DepthLevelOf(depth, limit(), settings_.long_queue_threshold()));
  return out;
}

absl::StatusOr<v1::QueueNotificationSettings> Scheduler::NotificationSettings(
    const std::string& job_id, const std::string& user) {
  absl::MutexLock lock(&mu_);
  if (!jobs_.contains(job_id))
    return JobNotFoundError(job_id, "is not known here");
  auto job = notify_.find(job_id);
  if (job != notify_.end()) {
    auto s = job->second.find(user);
    if (s != job->second.end()) return s->second;
  }
  v1::QueueNotificationSettings empty;
  empty.set_job_id(job_id);
  empty.mutable_user()->set_user_id(user);
  return empty;
}

absl::StatusOr<v1::QueueNotificationSettings>
Scheduler::UpdateNotificationSettings(const v1::QueueNotificationSettings& u,
                                      bool set_triggers, bool set_targets,
                                      const std::string& user) {
  Txn txn;
  v1::QueueNotificationSettings out;
  {
    absl::MutexLock lock(&mu_);
    if (!jobs_.contains(u.job_id()))
      return JobNotFoundError(u.job_id(), "is not known here");
    v1::QueueNotificationSettings& s = notify_[u.job_id()][user];
    s.set_job_id(u.job_id());
    s.mutable_user()->set_user_id(user);
    if (set_triggers) *s.mutable_triggers() = u.triggers();
    if (set_targets) *s.mutable_targets() = u.targets();
    *s.mutable_update_time() = ToProto(clock_.Now());
    SchedulerStore::StageNotificationSettings(txn.batch, s);
    out = s;
    RETURN_IF_ERROR(CommitLocked(txn));
  }
  Published(txn);
  return out;
}

void Scheduler::NotifyLocked(Txn& txn, internal::JobRecord& job,
                             NotificationTrigger trigger,
                             const std::string& text, absl::Time now) {
  auto users = notify_.find(job.entry().job_id());
  if (users == notify_.end()) return;
  for (const auto& entry : users->second) {
    // Not a structured binding: the lambda below captures the user.
    const std::string& user = entry.first;
    const v1::QueueNotificationSettings& settings = entry.second;
    if (std::find(settings.triggers().begin(), settings.triggers().end(),
                  trigger) == settings.triggers().end()) {
      continue;
    }
    bool sent =
        std::any_of(job.sent().begin(), job.sent().end(), [&](const auto& s) {
          return s.user_id() == user && s.trigger() == trigger;
        });
    if (sent) continue;
    internal::SentNotification& record = *job.add_sent();
    record.set_user_id(user);
    record.set_trigger(trigger);
    txn.jobs.insert(job.entry().job_id());
    std::string destination;
    for (const auto& t : settings.targets()) {
      if (t.channel() == common::v1::NOTIFICATION_CHANNEL_SLACK) {
        destination = t.address();
      }
    }
    txn.notifications.push_back({TriggerName(trigger), job.entry().job_id(),
                                 user, text, now, destination});
  }
}

void Scheduler::NotifyPositionsLocked(Txn& txn, absl::Time now) {
  int position = 0;
  for (const QueueKey& key : queue_) {
    if (++position > 3) break;
    internal::JobRecord& job = jobs_.at(key.job_id);
    const std::string& name = job.entry().display_name();
    NotifyLocked(
        txn, job, common::v1::NOTIFICATION_TRIGGER_QUEUE_POSITION_THREE,
        absl::StrCat("\"", name, "\" is #", position, " in the queue"), now);
    if (position == 1) {
      NotifyLocked(txn, job,
                   common::v1::NOTIFICATION_TRIGGER_QUEUE_POSITION_ONE,
                   absl::StrCat("Your job \"", name,
                                "\" is next! Starting within 15 minutes"),
                   now);
    }
  }
}

void Scheduler::Tick() {
  std::vector<std::string> running;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [seq, id] : held_) running.push_back(id);
  }
  absl::flat_hash_map<std::string, common::v1::Progress> fetched;
  if (progress_source_ != nullptr && !running.empty()) {
    fetched = progress_source_->Fetch(running);
  }
  Txn txn;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    progress_ = std::move(fetched);
    for (const auto& [id, progress] : progress_) {
      auto job = jobs_.find(id);
      if (job == jobs_.end() ||
          job->second.phase() != internal::PHASE_RUNNING ||
          progress.stage() < common::v1::STAGE_TRAINING) {
        continue;
      }
      NotifyLocked(txn, job->second,
                   common::v1::NOTIFICATION_TRIGGER_TRAINING_STARTED,
                   absl::StrCat("\"", job->second.entry().display_name(),
                                "\" started training"),
                   now);
    }
    ExpirePromotionsLocked(txn, now);
    estimates_dirty_ = true;
    ++version_;
    if (!CommitLocked(txn).ok()) return;  // retried at the next tick
  }
  Published(txn);
}

}  // namespace trainyard::scheduler
