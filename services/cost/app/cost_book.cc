// Copyright 2026 Trainyard authors.
#include "services/cost/app/cost_book.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/errors.h"
#include "common/status/status_macros.h"
#include "common/time/proto_time.h"
#include "services/cost/app/rejection_status.h"
#include "services/cost/domain/job_cost.h"
#include "services/cost/domain/money.h"
#include "services/cost/domain/rate_card.h"

namespace trainyard::cost {
namespace {

// Checkpoints are written every 100 steps (domain.md).
constexpr int64_t kCheckpointInterval = 100;

std::string CardEtag(const v1::RateCard& card) {
  return absl::StrCat("v", card.version());
}

bool SameHardware(const common::v1::TrainingConfig& a,
                  const common::v1::TrainingConfig& b) {
  return a.gpu_type() == b.gpu_type() && a.pricing() == b.pricing() &&
         std::max(a.gpu_count(), 1) == std::max(b.gpu_count(), 1);
}

void AddMoney(common::v1::Money* m, int64_t micros) {
  m->set_micros(m->micros() + micros);
}

// Adds `ms` to a proto duration.
void AddMs(google::protobuf::Duration* d, int64_t ms) {
  *d = ToProto(FromProto(*d) + absl::Milliseconds(ms));
}

}  // namespace

CostBook::CostBook(CostStore& store, const Clock& clock,
                   ProgressSource& progress, CostMetrics* metrics)
    : store_(store), clock_(clock), progress_(progress), metrics_(metrics) {}

void CostBook::SetAlertListener(std::function<void()> listener) {
  alert_listener_ = std::move(listener);
}

absl::Status CostBook::Load() {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(cards_, store_.LoadRateCards());
  if (cards_.empty()) {
    storage::WriteBatch batch;
    v1::RateCard card = DefaultRateCard(clock_.Now());
    CostStore::StageRateCard(card, batch);
    RETURN_IF_ERROR(store_.Write(batch));
    cards_.push_back(std::move(card));
  }
  jobs_.clear();
  // The callbacks run here, under `lock`; clang's analysis cannot see into
  // them, hence AssertHeld.
  RETURN_IF_ERROR(store_.ForEachJob([&](internal::JobRecord job) {
    mu_.AssertHeld();
    std::string id = job.job_id();
    jobs_.emplace(std::move(id), std::move(job));
  }));
  history_.clear();
  RETURN_IF_ERROR(store_.ForEachHistory([&](const internal::HistorySample& s) {
    mu_.AssertHeld();
    history_[s.calibration_key()].Add(s);
  }));
  ASSIGN_OR_RETURN(const uint64_t last, store_.LastAlertSeq());
  next_alert_seq_ = last + 1;
  alert_watermark_.store(last);
  for (const auto& [id, job] : jobs_) CountOpenMeters(nullptr, &job);
  return absl::OkStatus();
}

v1::RateCard CostBook::RateCard() const {
  absl::ReaderMutexLock lock(&mu_);
  v1::RateCard card = cards_.back();
  card.set_etag(CardEtag(card));
  return card;
}

absl::StatusOr<v1::RateCard> CostBook::UpdateRateCard(RateCardUpdate u) {
  absl::MutexLock lock(&mu_);
  const v1::RateCard& current = cards_.back();
  if (u.etag != CardEtag(current)) {
    return EtagMismatchError("the rate card", CardEtag(current));
  }
  v1::RateCard next = std::move(u.card);
  next.set_currency_code(current.currency_code());
  for (v1::GpuRate& rate : *next.mutable_gpu_rates()) {
    if (rate.display_name().empty()) {
      rate.set_display_name(GpuDisplayName(rate.gpu_type()));
    }
    for (common::v1::Money* m :
         {rate.mutable_spot_hourly(), rate.mutable_on_demand_hourly()}) {
      if (m->currency_code().empty())
        m->set_currency_code(next.currency_code());
    }
  }
  if (next.paused_storage_per_gb_month().currency_code().empty()) {
    next.mutable_paused_storage_per_gb_month()->set_currency_code(
        next.currency_code());
  }
  if (std::optional<Rejection> r =
          ValidateRateCardChange(current, next, u.force)) {
    return ToStatus(*r);
  }
  next.set_version(current.version() + 1);
  *next.mutable_update_time() = ToProto(clock_.Now());
  *next.mutable_updated_by() = u.by;
  next.clear_etag();
  storage::WriteBatch batch;
  CostStore::StageRateCard(next, batch);
  RETURN_IF_ERROR(store_.Write(batch));
  cards_.push_back(next);
  next.set_etag(CardEtag(next));
  return next;
}

absl::StatusOr<internal::JobRecord> CostBook::Find(
    const std::string& job_id) const {
  auto it = jobs_.find(job_id);
  if (it == jobs_.end())
    return JobNotFoundError(job_id, "is not registered with cost");
  return it->second;
}

void CostBook::HistorySums::Add(const internal::HistorySample& s) {
  if (s.overhead_seconds() > kMaxCalibrationOverheadSeconds) return;
  ++count;
  seconds_per_step += s.seconds_per_step();
  overhead_seconds += s.overhead_seconds();
}

std::optional<HistoryStats> CostBook::HistoryFor(
    const common::v1::TrainingConfig& config) const {
  auto it = history_.find(CalibrationKey(config));
  if (it == history_.end() || it->second.count == 0) return std::nullopt;
  const HistorySums& h = it->second;
  return HistoryStats{.count = h.count,
                      .seconds_per_step = h.seconds_per_step / h.count,
                      .overhead_seconds = h.overhead_seconds / h.count};
}

absl::StatusOr<v1::CostEstimate> CostBook::EstimateLocked(
    const common::v1::TrainingConfig& config, int64_t from_step,
    std::optional<double> observed) const {
  const v1::RateCard& card = cards_.back();
  ASSIGN_OR_RETURN(const int64_t rate,
                   ToStatusOr(PodHourlyRateMicros(
                       card, config.gpu_type(), config.pricing(),
                       config.gpu_count(), "config.gpu_type", true)));
  const int64_t total = TotalSteps(config);
  if (from_step > total) {
    return InvalidFieldError(
        "from_step", absl::StrCat("beyond the job's ", total, " total steps"));
  }
  return cost::Estimate(EstimateInput{.config = config,
                                      .from_step = from_step,
                                      .hourly_rate_micros = rate,
                                      .currency = card.currency_code(),
                                      .history = HistoryFor(config),
                                      .observed_seconds_per_step = observed});
}

absl::StatusOr<v1::CostEstimate> CostBook::Estimate(
    const common::v1::TrainingConfig& config, int64_t from_step,
    const std::string& job_id) {
  std::optional<double> observed;
  if (!job_id.empty()) {
    common::v1::GpuType measured_on;
    {
      absl::ReaderMutexLock lock(&mu_);
      ASSIGN_OR_RETURN(internal::JobRecord record, Find(job_id));
      measured_on = record.last_gpu_type() != common::v1::GPU_TYPE_UNSPECIFIED
                        ? record.last_gpu_type()
                        : record.config().gpu_type();
    }
    absl::StatusOr<ProgressView> p = progress_.Progress(job_id);
    if (p.ok() && p->seconds_per_step.has_value()) {
      observed = *p->seconds_per_step * GpuSpeed(measured_on) /
                 GpuSpeed(config.gpu_type());
    }
  }
  absl::ReaderMutexLock lock(&mu_);
  return EstimateLocked(config, from_step, observed);
}

int CostBook::StageAlerts(internal::JobRecord& record, absl::Time now,
                          storage::WriteBatch& batch,
                          std::vector<v1::BudgetAlert>& fired) {
  const int64_t spend = record.final() ? record.final_cost_micros()
                                       : AccruedAt(record, now).spend_micros;
  std::vector<v1::BudgetAlert> due = DueAlerts(record, spend, now);
  for (v1::BudgetAlert& alert : due) {
    const uint64_t seq = next_alert_seq_++;
    alert.set_alert_id(absl::StrCat("a", seq));
    *alert.mutable_time() = ToProto(now);
    CostStore::StageAlert(seq, alert, batch);
    fired.push_back(std::move(alert));
  }
  return static_cast<int>(due.size());
}

void CostBook::StageChange(const MeterChange& change,
                           storage::WriteBatch& batch) const {
  for (const v1::Meter& m : change.meters) CostStore::StageMeter(m, batch);
  for (const v1::LedgerEntry& e : change.entries) {
    CostStore::StageEntry(e, batch);
  }
}

absl::Status CostBook::Commit(const storage::WriteBatch& batch,
                              internal::JobRecord record,
                              const MeterChange* change,
                              const std::vector<v1::BudgetAlert>& fired) {
  RETURN_IF_ERROR(store_.Write(batch));
  if (!fired.empty()) alert_watermark_.store(next_alert_seq_ - 1);
  if (metrics_ != nullptr) {
    if (change != nullptr) {
      for (const v1::LedgerEntry& e : change->entries) metrics_->Spent(e);
    }
    for (const v1::BudgetAlert& a : fired) metrics_->AlertSent(a.kind());
  }
  auto it = jobs_.find(record.job_id());
  CountOpenMeters(it == jobs_.end() ? nullptr : &it->second, &record);
  std::string id = record.job_id();
  jobs_.insert_or_assign(std::move(id), std::move(record));
  return absl::OkStatus();
}

void CostBook::CountOpenMeters(const internal::JobRecord* before,
                               const internal::JobRecord* after) {
  bool changed = false;
  if (before != nullptr) {
    for (const v1::Meter& m : before->open_meters()) {
      --open_meters_[m.phase()];
      changed = true;
    }
  }
  if (after != nullptr) {
    for (const v1::Meter& m : after->open_meters()) {
      ++open_meters_[m.phase()];
      changed = true;
    }
  }
  if (metrics_ == nullptr || !changed) return;
  for (int p = common::v1::COST_PHASE_ACTIVE_COMPUTE;
       p <= common::v1::COST_PHASE_PAUSED_STORAGE; ++p) {
    metrics_->OpenMeters(static_cast<common::v1::CostPhase>(p),
                         open_meters_[p]);
  }
}

void CostBook::Notify(const std::vector<v1::BudgetAlert>& fired) {
  if (!fired.empty() && alert_listener_) alert_listener_();
}

absl::StatusOr<v1::RegisterJobResponse> CostBook::RegisterJob(
    JobRegistration reg) {
  std::optional<double> measured;  // the job's speed, for a revision
  if (reg.from_step > 0) {
    absl::StatusOr<ProgressView> p = progress_.Progress(reg.job_id);
    if (p.ok()) measured = p->seconds_per_step;
  }
  v1::RegisterJobResponse out;
  std::vector<v1::BudgetAlert> fired;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    reg.config.set_gpu_count(std::max(reg.config.gpu_count(), 1));
    if (reg.config.pricing() == common::v1::PRICING_UNSPECIFIED) {
      reg.config.set_pricing(common::v1::PRICING_SPOT);
    }
    reg.config.set_total_steps(TotalSteps(reg.config));
    auto it = jobs_.find(reg.job_id);
    internal::JobRecord record;
    bool changed = false;
    if (it == jobs_.end()) {
      ASSIGN_OR_RETURN(*record.mutable_estimate(),
                       EstimateLocked(reg.config, reg.from_step, std::nullopt));
      record.set_job_id(reg.job_id);
      *record.mutable_create_time() = ToProto(now);
      changed = true;
    } else {
      record = it->second;
      if (record.final()) {  // a retry reopens the cost
        record.set_final(false);
        record.set_final_cost_micros(0);
        record.clear_final_state();
        record.clear_final_time();
        changed = true;
      }
      if (!SameHardware(record.config(), reg.config)) {
        std::optional<double> observed;
        if (measured.has_value()) {
          const common::v1::GpuType was =
              record.last_gpu_type() != common::v1::GPU_TYPE_UNSPECIFIED
                  ? record.last_gpu_type()
                  : record.config().gpu_type();
          observed =
              *measured * GpuSpeed(was) / GpuSpeed(reg.config.gpu_type());
        }
        ASSIGN_OR_RETURN(v1::CostEstimate rest,
                         EstimateLocked(reg.config, reg.from_step, observed));
        // Revised: spend so far + the estimate of the remaining steps.
        const Accrued a = AccruedAt(record, now);
        AddMoney(rest.mutable_cost()->mutable_low(), a.spend_micros);
        AddMoney(rest.mutable_cost()->mutable_high(), a.spend_micros);
        AddMs(rest.mutable_duration()->mutable_min(), a.compute_ms);
        AddMs(rest.mutable_duration()->mutable_max(), a.compute_ms);
        rest.add_assumptions(absl::StrCat("Includes ",
                                          FormatUsd(a.spend_micros),
                                          " spent before the change"));
        *record.mutable_estimate() = std::move(rest);
        record.mutable_alerts()->set_estimate_warning(false);
        record.mutable_alerts()->set_over_estimate(false);
        changed = true;
      }
    }
    if (!reg.display_name.empty() &&
        reg.display_name != record.display_name()) {
      record.set_display_name(reg.display_name);
      changed = true;
    }
    if (!reg.created_by.user_id().empty() &&
        reg.created_by.SerializeAsString() !=
            record.created_by().SerializeAsString()) {
      *record.mutable_created_by() = reg.created_by;
      changed = true;
    }
    if (reg.config.SerializeAsString() != record.config().SerializeAsString()) {
      *record.mutable_config() = reg.config;
      changed = true;
    }
    if (reg.budget.has_value() && reg.budget->SerializeAsString() !=
                                      record.budget().SerializeAsString()) {
      *record.mutable_budget() = *reg.budget;
      record.set_budget_version(record.budget_version() + 1);
      record.mutable_alerts()->set_budget_warning(false);
      record.mutable_alerts()->set_budget_exceeded(false);
      record.clear_budget_exceeded_time();
      changed = true;
    }
    if (changed) {
      storage::WriteBatch batch;
      StageAlerts(record, now, batch, fired);
      CostStore::StageJob(record, batch);
      RETURN_IF_ERROR(Commit(batch, record, nullptr, fired));
    }
    *out.mutable_estimate() = record.estimate();
    *out.mutable_cost() =
        cost::JobCost(
            record, now,
            absl::UnavailableError("progress is not read at registration"))
            .cost();
  }
  Notify(fired);
  return out;
}

absl::StatusOr<v1::GetJobCostResponse> CostBook::JobCost(
    const std::string& job_id) {
  internal::JobRecord record;
  {
    absl::ReaderMutexLock lock(&mu_);
    ASSIGN_OR_RETURN(record, Find(job_id));
  }
  absl::StatusOr<ProgressView> progress =
      record.final() ? absl::StatusOr<ProgressView>(ProgressView{})
                     : progress_.Progress(job_id);
  return cost::JobCost(record, clock_.Now(), progress);
}

std::vector<common::v1::CostSummary> CostBook::Summaries(
    const std::vector<std::string>& job_ids) {
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (const std::string& id : job_ids) {
    if (seen.insert(id).second) ids.push_back(id);
  }
  std::vector<std::optional<internal::JobRecord>> records(ids.size());
  std::vector<std::string> active;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (size_t i = 0; i < ids.size(); ++i) {
      auto it = jobs_.find(ids[i]);
      if (it == jobs_.end()) continue;
      records[i] = it->second;
      if (!it->second.final()) active.push_back(ids[i]);
    }
  }
  std::vector<absl::StatusOr<ProgressView>> progress =
      active.empty() ? std::vector<absl::StatusOr<ProgressView>>{}
                     : progress_.ProgressMany(active);
  const absl::Time now = clock_.Now();
  std::vector<common::v1::CostSummary> out;
  out.reserve(ids.size());
  size_t next_active = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!records[i].has_value()) {
      out.emplace_back().set_job_id(ids[i]);
      continue;
    }
    absl::StatusOr<ProgressView> p = ProgressView{};
    if (!records[i]->final()) p = std::move(progress[next_active++]);
    out.push_back(SummaryOf(cost::JobCost(*records[i], now, p).cost()));
  }
  return out;
}

absl::StatusOr<v1::Meter> CostBook::OpenMeter(const std::string& request_id,
                                              MeterOpening opening) {
  v1::Meter opened;
  std::vector<v1::BudgetAlert> fired;
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(std::optional<v1::Meter> first,
                     store_.FindRequest(request_id));
    if (first.has_value()) return *first;
    ASSIGN_OR_RETURN(internal::JobRecord record, Find(opening.job_id));
    if (opening.pricing == common::v1::PRICING_UNSPECIFIED) {
      opening.pricing = record.config().pricing();
    }
    const absl::Time now = clock_.Now();
    ASSIGN_OR_RETURN(MeterChange change, ToStatusOr(cost::OpenMeter(
                                             record, cards_.back(), opening)));
    opened = change.meters.back();
    storage::WriteBatch batch;
    StageChange(change, batch);
    CostStore::StageRequest(request_id, opened, batch);
    StageAlerts(record, now, batch, fired);
    CostStore::StageJob(record, batch);
    RETURN_IF_ERROR(Commit(batch, std::move(record), &change, fired));
  }
  Notify(fired);
  return opened;
}

absl::StatusOr<v1::Meter> CostBook::CloseMeter(Closing c) {
  ASSIGN_OR_RETURN(v1::Meter stored, store_.GetMeter(c.closing.meter_id));
  absl::StatusOr<ProgressView> progress = absl::UnavailableError("not read");
  const bool interrupted =
      c.closing.reason == v1::METER_CLOSE_REASON_INTERRUPTED &&
      stored.state() == v1::METER_STATE_OPEN;
  if (interrupted) progress = progress_.Progress(stored.job_id());
  v1::Meter closed;
  std::vector<v1::BudgetAlert> fired;
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(const v1::Meter meter,
                     store_.GetMeter(c.closing.meter_id));
    ASSIGN_OR_RETURN(internal::JobRecord record, Find(meter.job_id()));
    const absl::Time now = clock_.Now();
    if (!c.closing.end_time_given) c.closing.end_time = now;
    if (interrupted) {
      std::optional<int64_t> step = c.last_step;
      if (!step.has_value() && progress.ok()) step = progress->step;
      if (step.has_value()) {
        const int64_t checkpoint = c.last_checkpoint_step.value_or(
            *step / kCheckpointInterval * kCheckpointInterval);
        double sps = record.estimate().seconds_per_step();
        if (progress.ok() && progress->seconds_per_step.has_value()) {
          sps = *progress->seconds_per_step;
        }
        if (*step > checkpoint) {
          c.closing.wasted = WastedSteps{.first_step = checkpoint + 1,
                                         .steps = *step - checkpoint,
                                         .seconds_per_step = sps};
        }
      }
    }
    ASSIGN_OR_RETURN(MeterChange change,
                     ToStatusOr(cost::CloseMeter(record, meter, c.closing)));
    closed = change.meters.back();
    if (change.entries.empty()) return closed;  // a repeated close
    storage::WriteBatch batch;
    StageChange(change, batch);
    StageAlerts(record, now, batch, fired);
    CostStore::StageJob(record, batch);
    RETURN_IF_ERROR(Commit(batch, std::move(record), &change, fired));
  }
  Notify(fired);
  return closed;
}

absl::StatusOr<std::vector<v1::LedgerEntry>> CostBook::Ledger(
    const LedgerQuery& query) {
  const bool all = query.job_id == "-";
  std::vector<v1::LedgerEntry> entries;
  const absl::Time now = clock_.Now();
  {
    absl::ReaderMutexLock lock(&mu_);
    if (all) {
      for (const auto& [id, job] : jobs_) {
        for (const v1::Meter& m : job.open_meters()) {
          v1::LedgerEntry e = ProvisionalEntry(m, now);
          if (Matches(e, query.clauses)) entries.push_back(std::move(e));
        }
      }
    } else {
      ASSIGN_OR_RETURN(internal::JobRecord job, Find(query.job_id));
      for (const v1::Meter& m : job.open_meters()) {
        v1::LedgerEntry e = ProvisionalEntry(m, now);
        if (Matches(e, query.clauses)) entries.push_back(std::move(e));
      }
    }
  }
  RETURN_IF_ERROR(
      store_.ScanLedger(all ? "" : query.job_id, [&](const v1::LedgerEntry& e) {
        if (Matches(e, query.clauses)) {
          entries.push_back(e);
        }
        return true;
      }));
  SortEntries(query.order, entries);
  return entries;
}

absl::StatusOr<common::v1::BudgetStatus> CostBook::SetBudget(
    const std::string& job_id, std::optional<common::v1::Budget> budget,
    const std::string& etag) {
  common::v1::BudgetStatus status;
  std::vector<v1::BudgetAlert> fired;
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(internal::JobRecord record, Find(job_id));
    const std::string current = absl::StrCat(record.budget_version());
    if (!etag.empty() && etag != current) {
      return EtagMismatchError("the job's budget", current);
    }
    const absl::Time now = clock_.Now();
    if (budget.has_value()) {
      *record.mutable_budget() = *budget;
    } else {
      record.clear_budget();
    }
    record.set_budget_version(record.budget_version() + 1);
    record.mutable_alerts()->set_budget_warning(false);
    record.mutable_alerts()->set_budget_exceeded(false);
    record.clear_budget_exceeded_time();
    storage::WriteBatch batch;
    StageAlerts(record, now, batch, fired);
    CostStore::StageJob(record, batch);
    status = cost::JobCost(record, now, ProgressView{}).cost().budget();
    RETURN_IF_ERROR(Commit(batch, std::move(record), nullptr, fired));
  }
  Notify(fired);
  return status;
}

absl::StatusOr<v1::FinalizeJobCostResponse> CostBook::Finalize(
    const std::string& job_id, common::v1::JobState state,
    std::optional<absl::Time> end_time) {
  absl::StatusOr<ProgressView> progress = absl::UnavailableError("not read");
  if (state == common::v1::JOB_STATE_COMPLETED) {
    progress = progress_.Progress(job_id);
  }
  v1::FinalizeJobCostResponse out;
  std::vector<v1::BudgetAlert> fired;
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(internal::JobRecord record, Find(job_id));
    const absl::Time now = clock_.Now();
    if (!record.final()) {
      const absl::Time end = end_time.value_or(now);
      MeterChange change = cost::Finalize(record, state, end);
      storage::WriteBatch batch;
      StageChange(change, batch);
      StageAlerts(record, now, batch, fired);
      if (state == common::v1::JOB_STATE_COMPLETED &&
          record.estimate().total_steps() > 0) {
        // Calibration (R-DASH-06): what this run measured.
        const Accrued a = AccruedAt(record, end);
        const int64_t wasted_ms =
            TotalOf(record, common::v1::COST_PHASE_WASTED_STEPS).duration_ms();
        const double useful_s = (a.compute_ms - wasted_ms) / 1000.0;
        const double steps =
            static_cast<double>(record.estimate().total_steps());
        internal::HistorySample s;
        s.set_job_id(job_id);
        s.set_calibration_key(CalibrationKey(record.config()));
        s.set_seconds_per_step(
            progress.ok() && progress->seconds_per_step.has_value()
                ? *progress->seconds_per_step
                : std::max(useful_s - kModelOverheadSeconds, 0.0) / steps);
        s.set_overhead_seconds(
            std::max(useful_s - steps * s.seconds_per_step(), 0.0));
        s.set_estimate_low_micros(record.estimate().cost().low().micros());
        s.set_estimate_high_micros(record.estimate().cost().high().micros());
        s.set_actual_micros(record.final_cost_micros());
        *s.mutable_finish_time() = ToProto(end);
        CostStore::StageHistory(s, batch);
        CostStore::StageJob(record, batch);
        RETURN_IF_ERROR(Commit(batch, record, &change, fired));
        history_[s.calibration_key()].Add(s);
        if (metrics_ != nullptr && s.estimate_low_micros() > 0) {
          metrics_->EstimateError(static_cast<double>(s.actual_micros()) /
                                  s.estimate_low_micros());
        }
      } else {
        CostStore::StageJob(record, batch);
        RETURN_IF_ERROR(Commit(batch, record, &change, fired));
      }
    }
    out.mutable_final_cost()->set_currency_code(cards_.back().currency_code());
    out.mutable_final_cost()->set_micros(record.final_cost_micros());
    *out.mutable_cost() = cost::JobCost(record, now, ProgressView{}).cost();
  }
  Notify(fired);
  return out;
}

absl::StatusOr<v1::GetCostReportResponse> CostBook::Report(
    const ReportQuery& query) {
  struct Dims {
    common::v1::UserRef created_by;
    common::v1::Preset preset;
  };
  absl::flat_hash_map<std::string, Dims> dims;
  std::vector<ReportLine> lines;
  const absl::Time now = clock_.Now();
  std::string currency;
  auto line_of = [](const Dims& d, const v1::LedgerEntry& e) {
    return ReportLine{
        .job_id = e.job_id(),
        .created_by = d.created_by,
        .preset = d.preset,
        .gpu_type = e.gpu_type(),
        .gpu_count = e.gpu_count(),
        .pricing = e.pricing(),
        .phase = e.phase(),
        .start = FromProto(e.start_time()),
        .amount_micros = e.amount().micros(),
        .duration_ms = absl::ToInt64Milliseconds(FromProto(e.duration()))};
  };
  {
    absl::ReaderMutexLock lock(&mu_);
    currency = cards_.back().currency_code();
    for (const auto& [id, job] : jobs_) {
      const Dims d{job.created_by(), job.config().preset()};
      dims.emplace(id, d);
      for (const v1::Meter& m : job.open_meters()) {
        ReportLine l = line_of(d, ProvisionalEntry(m, now));
        if (PassesFilters(query, l)) lines.push_back(std::move(l));
      }
    }
  }
  RETURN_IF_ERROR(store_.ScanLedger("", [&](const v1::LedgerEntry& e) {
    auto it = dims.find(e.job_id());
    if (it == dims.end()) return true;  // purged meanwhile
    ReportLine l = line_of(it->second, e);
    if (PassesFilters(query, l)) lines.push_back(std::move(l));
    return true;
  }));
  RETURN_IF_ERROR(store_.ScanAggregates(
      query.start, query.end, [&](const internal::AggregateRow& r) {
        ReportLine l{
            .job_id = r.job_id(),
            .created_by = r.created_by(),
            .preset = r.preset(),
            .gpu_type = r.gpu_type(),
            .gpu_count = r.gpu_count(),
            .pricing = r.pricing(),
            .phase = r.phase(),
            .start = std::max(absl::FromUnixSeconds(r.day_start_unix()),
                              query.start),
            .amount_micros = r.amount_micros(),
            .duration_ms = r.duration_ms()};
        if (PassesFilters(query, l)) lines.push_back(std::move(l));
      }));
  std::vector<internal::HistorySample> samples;
  RETURN_IF_ERROR(store_.ForEachHistory(
      [&](const internal::HistorySample& s) { samples.push_back(s); }));
  return BuildReport(query, lines, samples, currency);
}

absl::StatusOr<int64_t> CostBook::DeleteJobData(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return 0;
  internal::JobRecord record = it->second;
  const absl::Time now = clock_.Now();
  // Meters still open (a job-control that never finalized) close now.
  MeterChange change = cost::Finalize(
      record,
      record.final() ? record.final_state() : common::v1::JOB_STATE_FAILED,
      now);
  std::vector<v1::LedgerEntry> entries = change.entries;
  RETURN_IF_ERROR(store_.ScanLedger(job_id, [&](const v1::LedgerEntry& e) {
    entries.push_back(e);
    return true;
  }));
  // Fold into per-day aggregates so reports keep the spend.
  std::map<std::string, internal::AggregateRow> rows;
  for (const v1::LedgerEntry& e : entries) {
    internal::AggregateRow r;
    r.set_day_start_unix(absl::ToUnixSeconds(FromProto(e.start_time())) /
                         86400 * 86400);
    r.set_job_id(job_id);
    *r.mutable_created_by() = record.created_by();
    r.set_preset(record.config().preset());
    r.set_gpu_type(e.gpu_type());
    r.set_gpu_count(e.gpu_count());
    r.set_pricing(e.pricing());
    r.set_phase(e.phase());
    const std::string key = r.SerializeAsString();
    auto [slot, fresh] = rows.emplace(key, r);
    slot->second.set_amount_micros(slot->second.amount_micros() +
                                   e.amount().micros());
    slot->second.set_duration_ms(
        slot->second.duration_ms() +
        absl::ToInt64Milliseconds(FromProto(e.duration())));
  }
  storage::WriteBatch batch;
  for (auto& [key, row] : rows) {
    ASSIGN_OR_RETURN(std::optional<internal::AggregateRow> stored,
                     store_.FindAggregate(row));
    if (stored.has_value()) {  // a second delete after a re-registration
      row.set_amount_micros(row.amount_micros() + stored->amount_micros());
      row.set_duration_ms(row.duration_ms() + stored->duration_ms());
    }
    CostStore::StageAggregate(row, batch);
  }
  CostStore::StageDeleteJob(job_id, batch);
  RETURN_IF_ERROR(store_.Write(batch));
  if (metrics_ != nullptr) {
    for (const v1::LedgerEntry& e : change.entries) metrics_->Spent(e);
  }
  CountOpenMeters(&it->second, nullptr);
  jobs_.erase(it);
  return static_cast<int64_t>(entries.size());
}

absl::StatusOr<int> CostBook::CheckBudgets() {
  std::vector<v1::BudgetAlert> fired;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_.Now();
    storage::WriteBatch batch;
    std::vector<internal::JobRecord> changed;
    for (const auto& [id, job] : jobs_) {
      if (job.final() || job.open_meters_size() == 0) continue;
      // Most jobs cross nothing: check before copying the record.
      if (!DueAlertKinds(job, AccruedAt(job, now).spend_micros).any()) {
        continue;
      }
      internal::JobRecord record = job;
      if (StageAlerts(record, now, batch, fired) > 0) {
        CostStore::StageJob(record, batch);
        changed.push_back(std::move(record));
      }
    }
    if (changed.empty()) return 0;
    RETURN_IF_ERROR(store_.Write(batch));
    alert_watermark_.store(next_alert_seq_ - 1);
    if (metrics_ != nullptr) {
      for (const v1::BudgetAlert& a : fired) metrics_->AlertSent(a.kind());
    }
    for (internal::JobRecord& r : changed) {
      std::string id = r.job_id();
      jobs_.insert_or_assign(std::move(id), std::move(r));
    }
  }
  Notify(fired);
  return static_cast<int>(fired.size());
}

}  // namespace trainyard::cost
