// Copyright 2026 Trainyard authors.
//
// The queue, its slots, promotions and notifications as one state behind one
// lock. Every change is Stage -> Write -> Publish: the records it touches are
// staged into one WriteBatch and written atomically before anyone can see the
// change; if the write fails the in-memory state is reloaded from RocksDB, so
// nothing half-done survives. Listeners (the streams) are woken after each
// change.
//
// Invariants (checked by the model-based test): a job holds at most one slot;
// no new slot is assigned while as many jobs as the limit hold one (lowering
// the limit never takes a slot back); every held slot belongs to a RUNNING job
// and is freed only by ReleaseSlot, RemoveFromQueue racing an assignment
// (never), or Reconcile.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/auth/principal.h"
#include "common/notify/notifier.h"
#include "common/storage/write_batch.h"
#include "common/time/clock.h"
#include "services/scheduler/app/progress_source.h"
#include "services/scheduler/app/scheduler_metrics.h"
#include "services/scheduler/domain/estimates.h"
#include "services/scheduler/domain/queue_rules.h"
#include "services/scheduler/storage/scheduler_store.h"
#include "trainyard/scheduler/internal/state.pb.h"
#include "trainyard/scheduler/v1/scheduler.pb.h"

namespace trainyard::scheduler {

// Validated commands (grpc/ converts requests into these).
struct EnqueueCommand {
  std::string request_id;
  // job_id, display_name, created_by, create_time, config,
  // estimated_duration, attempt.
  v1::QueueEntry entry;
  std::vector<common::v1::NotificationTrigger> triggers;
  std::vector<common::v1::NotificationTarget> targets;
};

struct RemoveCommand {
  std::string request_id;
  std::string job_id;
  int attempt = 0;  // 0: whichever is queued
  std::string reason;
};

struct ReleaseCommand {
  std::string request_id;
  std::string job_id;
  int attempt = 0;
  v1::SlotOutcome outcome = v1::SLOT_OUTCOME_UNSPECIFIED;
  std::string assignment_id;  // empty: match by attempt
};

struct PromotionCommand {
  std::string request_id;
  std::string job_id;
  v1::PromotionReason reason = v1::PROMOTION_REASON_UNSPECIFIED;
  std::string justification;
  bool validate_only = false;
};

struct HeldJobView {
  std::string job_id;
  std::string assignment_id;
  int attempt = 0;
};

struct SchedulerOptions {
  // Reconcile frees a slot job-control does not hold only after this long.
  absl::Duration reconcile_grace = absl::Minutes(10);
  // Promotion requests notify this destination (--approvals_webhook_url).
  std::string approvals_destination;
};

// An assignment with its position in the assignment stream.
struct SequencedAssignment {
  uint64_t seq = 0;
  v1::Assignment assignment;
};

class Scheduler {
 public:
  // All references must outlive the scheduler; `progress`, `notifier` and
  // `metrics` may be null.
  Scheduler(SchedulerStore& store, const Clock& clock, ProgressSource* progress,
            notify::Notifier* notifier, SchedulerMetrics* metrics,
            SchedulerOptions options = {});

  // Loads the stored state (replacing the in-memory one) and assigns free
  // slots. Call once before serving, and to simulate a restart in tests.
  absl::Status Load();

  // R-Q-01. Idempotent by request_id and by (job, attempt): a known attempt
  // gets its entry (position 0 once it started or left), never a second
  // entry. FAILED_PRECONDITION JOB_HOLDS_SLOT for a newer attempt of a job
  // holding a slot, STALE_ATTEMPT for an older attempt.
  absl::StatusOr<v1::QueueEntry> Enqueue(const EnqueueCommand& cmd);
  // False when the job (or that attempt) is not queued.
  absl::StatusOr<bool> Remove(const RemoveCommand& cmd);
  // False when the job holds no slot, or holds another assignment than the
  // one named. NOT_FOUND JOB_NOT_FOUND for a job never enqueued.
  absl::StatusOr<bool> Release(const ReleaseCommand& cmd);

  // Held slots' assignments with seq > `after`, in order, at most `max`.
  std::vector<SequencedAssignment> AssignmentsAfter(uint64_t after,
                                                    size_t max) const;
  // The latest assignment's seq (0 = none yet).
  uint64_t last_assignment_seq() const;

  absl::StatusOr<v1::ReconcileResponse> Reconcile(
      const std::vector<HeldJobView>& held, uint64_t cursor_seq,
      bool validate_only);

  // NOT_FOUND JOB_NOT_QUEUED when not queued.
  absl::StatusOr<v1::QueueEntry> GetEntry(const std::string& job_id);

  struct EntryPage {
    std::vector<v1::QueueEntry> entries;
    int total = 0;
    bool more = false;
  };
  // Queued jobs in order that `match` (null: all), skipping `offset` matches.
  EntryPage ListEntries(const std::function<bool(const v1::QueueEntry&)>& match,
                        int offset, int limit);

  std::vector<v1::Slot> Slots();
  v1::QueueStatus Status();
  v1::QueueSettings Settings() const;
  // ABORTED ETAG_MISMATCH on a stale etag.
  absl::StatusOr<v1::QueueSettings> UpdateSettings(
      const v1::QueueSettings& update, const std::vector<std::string>& paths,
      const auth::Principal& by);

  // R-Q-05.
  absl::StatusOr<v1::Promotion> RequestPromotion(const PromotionCommand& cmd,
                                                 const auth::Principal& by);
  absl::StatusOr<std::pair<v1::Promotion, v1::QueueEntry>> ApprovePromotion(
      const std::string& id, const std::string& etag,
      const std::string& comment, const auth::Principal& by);
  absl::StatusOr<v1::Promotion> DenyPromotion(const std::string& id,
                                              const std::string& etag,
                                              const std::string& comment,
                                              const auth::Principal& by);
  // NOT_FOUND PROMOTION_NOT_FOUND.
  absl::StatusOr<v1::Promotion> GetPromotion(const std::string& id);
  // Every promotion, newest first.
  std::vector<v1::Promotion> Promotions();

  v1::GetQueueAnalyticsResponse Analytics(absl::Time start, absl::Time end);

  // R-Q-07. NOT_FOUND JOB_NOT_FOUND for a job never enqueued.
  absl::StatusOr<v1::QueueNotificationSettings> NotificationSettings(
      const std::string& job_id, const std::string& user);
  absl::StatusOr<v1::QueueNotificationSettings> UpdateNotificationSettings(
      const v1::QueueNotificationSettings& update, bool set_triggers,
      bool set_targets, const std::string& user);

  // The live view (WatchQueue): status, first `max_entries`, slots, version.
  v1::QueueSnapshot Snapshot(int max_entries);
  uint64_t version() const;

  // Periodic work (every <= 30 s suite time): refreshes running jobs'
  // progress, expires promotions, recomputes estimates, sends "training
  // started".
  void Tick();

  // `wake` runs (outside the lock) after every change. Returns an id.
  int AddListener(std::function<void()> wake);
  void RemoveListener(int id);

 private:
  // One change in the making.
  struct Txn {
    storage::WriteBatch batch;
    std::set<std::string> jobs;        // records to stage
    std::set<std::string> promotions;  // records to stage
    bool counters = false;
    std::vector<notify::Notification> notifications;
    std::vector<internal::StartRecord> assigned;       // for metrics
    std::vector<PromotionOutcome> promotion_outcomes;  // for metrics
  };

  absl::Status LoadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stages, writes, publishes; on a failed write reloads. After success the
  // caller must call Published() outside the lock.
  absl::Status CommitLocked(Txn& txn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Published(Txn& txn) ABSL_LOCKS_EXCLUDED(mu_);

  // Assigns free slots to the first queued jobs.
  void DispatchLocked(Txn& txn, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FreeSlotLocked(internal::JobRecord& job)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A completed run: its run ratio calibrates later estimates (R-X-03).
  void RecordRunLocked(Txn& txn, const internal::JobRecord& job, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndPendingPromotionLocked(Txn& txn, const std::string& job_id,
                                 v1::PromotionState state, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ExpirePromotionsLocked(Txn& txn, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queue-position notifications (#3, #1) for the first jobs.
  void NotifyPositionsLocked(Txn& txn, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Sends `trigger` to each user of `job` who opted in, once per attempt.
  void NotifyLocked(Txn& txn, internal::JobRecord& job,
                    common::v1::NotificationTrigger trigger,
                    const std::string& text, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Running jobs for the estimate simulation.
  std::vector<RunningJob> RunningLocked(absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Estimates of `order` (job ids in queue order) at `now`.
  std::vector<StartEstimate> SimulateLocked(
      const std::vector<std::string>& order, absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EnsureEstimatesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::QueueEntry EntryLocked(const internal::JobRecord& job, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::Slot SlotLocked(const internal::JobRecord& job) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::QueueStatus StatusLocked(absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // request_id handling: the recorded answer, or nullopt (first time).
  // INVALID_ARGUMENT naming request_id when reused with other arguments.
  absl::StatusOr<std::optional<std::string>> ReplayLocked(
      const std::string& request_id, const std::string& fingerprint) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RecordLocked(Txn& txn, const std::string& request_id,
                    const std::string& fingerprint,
                    const google::protobuf::MessageLite& answer, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  int limit() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return settings_.concurrency_limit();
  }

  SchedulerStore& store_;
  const Clock& clock_;
  ProgressSource* const progress_source_;
  notify::Notifier* const notifier_;
  SchedulerMetrics* const metrics_;
  const SchedulerOptions options_;

  mutable absl::Mutex mu_;
  v1::QueueSettings settings_ ABSL_GUARDED_BY(mu_);
  internal::Counters counters_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, internal::JobRecord> jobs_
      ABSL_GUARDED_BY(mu_);
  std::set<QueueKey> queue_ ABSL_GUARDED_BY(mu_);
  // Held slots by assignment seq -> job id.
  std::map<uint64_t, std::string> held_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, v1::Promotion> promotions_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> pending_by_job_
      ABSL_GUARDED_BY(mu_);
  std::vector<internal::StartRecord> starts_ ABSL_GUARDED_BY(mu_);
  // Run ratios of completed starts, oldest first, and the factor from them.
  std::vector<double> run_ratios_ ABSL_GUARDED_BY(mu_);
  double calibration_ ABSL_GUARDED_BY(mu_) = 1.0;
  // job id -> user id -> settings.
  absl::flat_hash_map<std::string,
                      std::map<std::string, v1::QueueNotificationSettings>>
      notify_ ABSL_GUARDED_BY(mu_);
  std::map<absl::Time, int> max_depth_by_day_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, common::v1::Progress> progress_
      ABSL_GUARDED_BY(mu_);

  // Estimates cache, rebuilt after a change or a tick.
  bool estimates_dirty_ ABSL_GUARDED_BY(mu_) = true;
  absl::Time estimates_at_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> order_ ABSL_GUARDED_BY(mu_);
  std::vector<StartEstimate> estimates_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> index_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;

  mutable absl::Mutex listeners_mu_;
  std::map<int, std::function<void()>> listeners_
      ABSL_GUARDED_BY(listeners_mu_);
  int next_listener_ ABSL_GUARDED_BY(listeners_mu_) = 0;
};

}  // namespace trainyard::scheduler
