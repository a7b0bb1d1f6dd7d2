// Copyright 2026 Trainyard authors.
//
// The cost service's state and operations: the rate card's versions, every
// job's cost record (kept in memory, rebuilt from RocksDB at Load), meters,
// ledger, budgets and the alert stream. Each change follows Stage -> Write ->
// Publish: the rules in domain/ run on a copy of the job's record, the result
// is written in one WriteBatch, and only then replaces the in-memory record;
// a failed call changes nothing.
//
// Inputs are typed and already validated by grpc/ (field names in errors
// here are the API's). Time is the suite clock's. Thread-safe: one mutex
// orders the writers; progress is read from metrics outside it.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/time/clock.h"
#include "services/cost/app/cost_metrics.h"
#include "services/cost/app/progress_source.h"
#include "services/cost/domain/estimate.h"
#include "services/cost/domain/ledger_query.h"
#include "services/cost/domain/meters.h"
#include "services/cost/domain/report.h"
#include "services/cost/storage/cost_store.h"

namespace trainyard::cost {

struct JobRegistration {
  std::string job_id;
  std::string display_name;
  common::v1::UserRef created_by;
  common::v1::TrainingConfig config;
  std::optional<common::v1::Budget> budget;
  int64_t from_step = 0;
};

struct RateCardUpdate {
  v1::RateCard card;  // the whole card after the update mask is applied
  std::string etag;
  bool force = false;
  common::v1::UserRef by;
};

class CostBook {
 public:
  // All references must outlive the book. `metrics` may be null.
  CostBook(CostStore& store, const Clock& clock, ProgressSource& progress,
           CostMetrics* metrics);

  // Loads rate cards (writing the defaults as version 1 on first start), jobs,
  // history and the alert sequence. Before any other call.
  absl::Status Load();

  // Called (outside the lock) after alerts were written.
  void SetAlertListener(std::function<void()> listener);

  // The current card with its etag.
  v1::RateCard RateCard() const;
  // ABORTED (ETAG_MISMATCH) when update.etag is stale.
  absl::StatusOr<v1::RateCard> UpdateRateCard(RateCardUpdate update);

  // Pure: stores nothing. With job_id, uses that job's measured speed.
  absl::StatusOr<v1::CostEstimate> Estimate(
      const common::v1::TrainingConfig& config, int64_t from_step,
      const std::string& job_id);

  absl::StatusOr<v1::RegisterJobResponse> RegisterJob(JobRegistration reg);

  // NOT_FOUND (JOB_NOT_FOUND) for a job never registered.
  absl::StatusOr<v1::GetJobCostResponse> JobCost(const std::string& job_id);
  // One summary per distinct id, in order; unknown ids get only job_id.
  std::vector<common::v1::CostSummary> Summaries(
      const std::vector<std::string>& job_ids);

  // Replays of request_id return the first answer.
  absl::StatusOr<v1::Meter> OpenMeter(const std::string& request_id,
                                      MeterOpening opening);

  struct Closing {
    MeterClosing closing;  // wasted is filled here from the steps below
    std::optional<int64_t> last_step;
    std::optional<int64_t> last_checkpoint_step;
  };
  absl::StatusOr<v1::Meter> CloseMeter(Closing closing);

  // Closed entries plus provisional ones of open meters, matching the query,
  // sorted by its order.
  absl::StatusOr<std::vector<v1::LedgerEntry>> Ledger(const LedgerQuery& query);

  // An unset budget (nullopt) removes it. ABORTED (ETAG_MISMATCH) for a
  // stale etag.
  absl::StatusOr<common::v1::BudgetStatus> SetBudget(
      const std::string& job_id, std::optional<common::v1::Budget> budget,
      const std::string& etag);

  absl::StatusOr<v1::FinalizeJobCostResponse> Finalize(
      const std::string& job_id, common::v1::JobState state,
      std::optional<absl::Time> end_time);

  absl::StatusOr<v1::GetCostReportResponse> Report(const ReportQuery& query);

  // Folds the job's ledger into the report aggregates, then removes its
  // record, meters and ledger. Returns the entries removed (0 when gone).
  absl::StatusOr<int64_t> DeleteJobData(const std::string& job_id);

  // The periodic budget check for jobs with open compute meters; returns the
  // alerts fired.
  absl::StatusOr<int> CheckBudgets();

  // The sequence of the last alert written.
  uint64_t AlertWatermark() const { return alert_watermark_.load(); }
  absl::Status ReadAlerts(
      uint64_t after,
      absl::FunctionRef<bool(uint64_t seq, const v1::BudgetAlert&)> visit)
      const {
    return store_.ScanAlerts(after, visit);
  }

 private:
  absl::StatusOr<internal::JobRecord> Find(const std::string& job_id) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::optional<HistoryStats> HistoryFor(
      const common::v1::TrainingConfig& config) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<v1::CostEstimate> EstimateLocked(
      const common::v1::TrainingConfig& config, int64_t from_step,
      std::optional<double> observed) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Stages alerts `record` has crossed at `now`; returns how many.
  int StageAlerts(internal::JobRecord& record, absl::Time now,
                  storage::WriteBatch& batch,
                  std::vector<v1::BudgetAlert>& fired)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `batch`, then publishes `record` and counts what it changed.
  absl::Status Commit(const storage::WriteBatch& batch,
                      internal::JobRecord record, const MeterChange* change,
                      const std::vector<v1::BudgetAlert>& fired)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StageChange(const MeterChange& change, storage::WriteBatch& batch) const;
  void Notify(const std::vector<v1::BudgetAlert>& fired);
  // Moves the open-meter counts from `before`'s meters to `after`'s (either
  // may be null) and updates the gauges.
  void CountOpenMeters(const internal::JobRecord* before,
                       const internal::JobRecord* after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  CostStore& store_;
  const Clock& clock_;
  ProgressSource& progress_;
  CostMetrics* const metrics_;
  std::function<void()> alert_listener_;

  mutable absl::Mutex mu_;
  std::vector<v1::RateCard> cards_ ABSL_GUARDED_BY(mu_);  // by version
  absl::flat_hash_map<std::string, internal::JobRecord> jobs_
      ABSL_GUARDED_BY(mu_);
  struct HistorySums {
    int count = 0;
    double seconds_per_step = 0;
    double overhead_seconds = 0;
    // Counts `s` unless its overhead is over kMaxCalibrationOverheadSeconds.
    void Add(const internal::HistorySample& s);
  };
  absl::flat_hash_map<std::string, HistorySums> history_ ABSL_GUARDED_BY(mu_);
  uint64_t next_alert_seq_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t open_meters_[common::v1::CostPhase_ARRAYSIZE] ABSL_GUARDED_BY(
      mu_) = {};
  std::atomic<uint64_t> alert_watermark_{0};
};

}  // namespace trainyard::cost
