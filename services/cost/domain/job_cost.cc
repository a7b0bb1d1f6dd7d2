// Copyright 2026 Trainyard authors.
#include "services/cost/domain/job_cost.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/time/proto_time.h"
#include "services/cost/domain/ledger.h"
#include "services/cost/domain/money.h"

namespace trainyard::cost {
namespace {

using common::v1::CostLevel;
using common::v1::CostPhase;

const std::string& CurrencyOf(const internal::JobRecord& record) {
  static const std::string kUsd = "USD";
  const std::string& c = record.estimate().hourly_rate().currency_code();
  return c.empty() ? kUsd : c;
}

common::v1::Money Money(int64_t micros, const std::string& currency) {
  common::v1::Money m;
  m.set_currency_code(currency);
  m.set_micros(micros);
  return m;
}

double Percent(int64_t part, int64_t whole) {
  return whole > 0 ? 100.0 * static_cast<double>(part) / whole : 0;
}

const v1::Meter* OpenComputeMeter(const internal::JobRecord& record) {
  for (const v1::Meter& m : record.open_meters()) {
    if (IsComputePhase(m.phase())) return &m;
  }
  return nullptr;
}

}  // namespace

CostLevel LevelOf(int64_t spend, int64_t low) {
  if (low <= 0) return common::v1::COST_LEVEL_GREEN;
  const __int128 s = static_cast<__int128>(spend) * 100;
  if (s < static_cast<__int128>(low) * 80) return common::v1::COST_LEVEL_GREEN;
  if (s <= static_cast<__int128>(low) * 100) {
    return common::v1::COST_LEVEL_YELLOW;
  }
  return common::v1::COST_LEVEL_RED;
}

Accrued AccruedAt(const internal::JobRecord& record, absl::Time now) {
  Accrued a;
  for (CostPhase p : {common::v1::COST_PHASE_ACTIVE_COMPUTE,
                      common::v1::COST_PHASE_RECOVERY_OVERHEAD,
                      common::v1::COST_PHASE_WASTED_STEPS}) {
    a.spend_micros += TotalOf(record, p).amount_micros();
    a.compute_ms += TotalOf(record, p).duration_ms();
  }
  const internal::PhaseTotal& storage =
      TotalOf(record, common::v1::COST_PHASE_PAUSED_STORAGE);
  a.storage_micros = storage.amount_micros();
  a.storage_ms = storage.duration_ms();
  for (const v1::Meter& m : record.open_meters()) {
    const absl::Time start = FromProto(m.start_time());
    const int64_t ms = now > start ? BilledMs(now - start) : 0;
    if (IsComputePhase(m.phase())) {
      a.spend_micros += MeterAmountAt(m, now);
      a.compute_ms += ms;
    } else {
      a.storage_micros += MeterAmountAt(m, now);
      a.storage_ms += ms;
    }
  }
  return a;
}

v1::GetJobCostResponse JobCost(const internal::JobRecord& record,
                               absl::Time now,
                               const absl::StatusOr<ProgressView>& progress) {
  v1::GetJobCostResponse out;
  common::v1::CostTracker& t = *out.mutable_cost();
  const std::string& currency = CurrencyOf(record);
  const Accrued a = AccruedAt(record, now);
  const int64_t spend =
      record.final() ? record.final_cost_micros() : a.spend_micros;
  const int64_t low = record.estimate().cost().low().micros();
  const int64_t high = record.estimate().cost().high().micros();
  t.set_job_id(record.job_id());
  *t.mutable_estimate() = record.estimate().cost();
  *t.mutable_spend() = Money(spend, currency);
  t.set_percent_of_estimate(Percent(spend, low));
  t.set_percent_of_high_estimate(Percent(spend, high));

  const v1::Meter* open = OpenComputeMeter(record);
  int64_t rate = record.estimate().hourly_rate().micros();
  t.set_gpu_type(record.config().gpu_type());
  t.set_gpu_count(std::max(record.config().gpu_count(), 1));
  t.set_pricing(record.config().pricing());
  if (open != nullptr) {
    rate = open->hourly_rate().micros();
    t.set_gpu_type(open->gpu_type());
    t.set_gpu_count(open->gpu_count());
    t.set_pricing(open->pricing());
  } else if (record.last_hourly_rate_micros() > 0) {
    rate = record.last_hourly_rate_micros();
    t.set_gpu_type(record.last_gpu_type());
    t.set_gpu_count(record.last_gpu_count());
    t.set_pricing(record.last_pricing());
  }
  *t.mutable_hourly_rate() = Money(rate, currency);

  // Projected final = spend + remaining hours x rate (R-DASH-06).
  int64_t remaining_ms = 0;
  if (record.final()) {
    out.set_projection_source(v1::PROJECTION_SOURCE_FINAL);
  } else if (progress.ok() && progress->seconds_per_step.has_value() &&
             progress->total_steps > 0) {
    out.set_projection_source(v1::PROJECTION_SOURCE_PROGRESS);
    remaining_ms = std::llround(
        std::max<int64_t>(progress->total_steps - progress->step, 0) *
        *progress->seconds_per_step * 1000);
  } else {
    out.set_projection_source(v1::PROJECTION_SOURCE_ESTIMATE);
    remaining_ms = std::max<int64_t>(absl::ToInt64Milliseconds(FromProto(
                                         record.estimate().duration().min())) -
                                         a.compute_ms,
                                     0);
    out.set_projection_note(
        progress.ok()
            ? "no speed measured yet: remaining time from the estimate"
            : absl::StrCat("progress unavailable (",
                           progress.status().message(),
                           "): remaining time from the estimate"));
  }
  *t.mutable_projected_final() =
      Money(spend + ComputeAmountMicros(rate, remaining_ms), currency);

  t.set_level(LevelOf(spend, low));
  t.set_over_estimate(high > 0 && spend > high);
  if (t.over_estimate()) {
    t.set_alert_text(absl::StrCat("Cost Exceeding Estimate: Current ",
                                  FormatUsd(spend), " vs estimated ",
                                  FormatUsd(low), "-", FormatUsd(high),
                                  ". Monitor closely or consider cancelling."));
  }
  *t.mutable_paused_storage() = Money(a.storage_micros, currency);

  // By phase: closed totals plus open meters' running amounts.
  for (int p = common::v1::COST_PHASE_ACTIVE_COMPUTE;
       p <= common::v1::COST_PHASE_WASTED_STEPS; ++p) {
    const CostPhase phase = static_cast<CostPhase>(p);
    const internal::PhaseTotal& total = TotalOf(record, phase);
    int64_t amount = total.amount_micros();
    int64_t ms = total.duration_ms();
    for (const v1::Meter& m : record.open_meters()) {
      if (m.phase() != phase) continue;
      amount += MeterAmountAt(m, now);
      const absl::Time start = FromProto(m.start_time());
      ms += now > start ? BilledMs(now - start) : 0;
    }
    common::v1::PhaseCost* pc = t.add_by_phase();
    pc->set_phase(phase);
    *pc->mutable_amount() = Money(amount, currency);
    *pc->mutable_duration() = ToProto(absl::Milliseconds(ms));
    pc->set_steps(total.steps());
  }

  common::v1::BudgetStatus& b = *t.mutable_budget();
  b.set_etag(absl::StrCat(record.budget_version()));
  const int64_t limit = record.budget().limit().micros();
  if (limit > 0) {
    *b.mutable_budget() = record.budget();
    b.set_percent_used(Percent(spend, limit));
    if (record.alerts().budget_exceeded()) {
      b.set_state(common::v1::BUDGET_STATE_EXCEEDED);
      *b.mutable_exceeded_time() = record.budget_exceeded_time();
    } else {
      b.set_state(common::v1::BUDGET_STATE_WITHIN);
    }
  } else {
    b.set_state(common::v1::BUDGET_STATE_NONE);
  }
  t.set_accruing(open != nullptr);
  t.set_final(record.final());
  *t.mutable_as_of() = ToProto(now);

  *out.mutable_active_duration() = ToProto(absl::Milliseconds(a.compute_ms));
  *out.mutable_paused_duration() = ToProto(absl::Milliseconds(a.storage_ms));
  *out.mutable_total_duration() =
      ToProto(absl::Milliseconds(a.compute_ms + a.storage_ms));
  return out;
}

DueKinds DueAlertKinds(const internal::JobRecord& record, int64_t spend) {
  const int64_t low = record.estimate().cost().low().micros();
  const int64_t high = record.estimate().cost().high().micros();
  const int64_t limit = record.budget().limit().micros();
  const internal::AlertMarks& marks = record.alerts();
  const __int128 s100 = static_cast<__int128>(spend) * 100;
  DueKinds k;
  k.estimate_warning = low > 0 && !marks.estimate_warning() &&
                       s100 >= static_cast<__int128>(low) * 80;
  k.over_estimate = high > 0 && !marks.over_estimate() && spend > high;
  k.budget_warning = limit > 0 && !marks.budget_warning() &&
                     s100 >= static_cast<__int128>(limit) * 80;
  k.budget_exceeded = limit > 0 && !marks.budget_exceeded() && spend >= limit;
  return k;
}

std::vector<v1::BudgetAlert> DueAlerts(internal::JobRecord& record,
                                       int64_t spend, absl::Time now) {
  std::vector<v1::BudgetAlert> due;
  const std::string& currency = CurrencyOf(record);
  const int64_t low = record.estimate().cost().low().micros();
  const int64_t high = record.estimate().cost().high().micros();
  const int64_t limit = record.budget().limit().micros();
  internal::AlertMarks& marks = *record.mutable_alerts();
  auto add = [&](v1::AlertKind kind, int64_t threshold, std::string message) {
    v1::BudgetAlert alert;
    alert.set_job_id(record.job_id());
    alert.set_kind(kind);
    *alert.mutable_spend() = Money(spend, currency);
    *alert.mutable_threshold() = Money(threshold, currency);
    alert.set_level(LevelOf(spend, low));
    alert.set_message(std::move(message));
    if (kind == v1::ALERT_KIND_BUDGET_EXCEEDED) {
      alert.set_action(record.budget().action() ==
                               common::v1::BUDGET_ACTION_UNSPECIFIED
                           ? common::v1::BUDGET_ACTION_ALERT
                           : record.budget().action());
    }
    due.push_back(std::move(alert));
  };
  const DueKinds kinds = DueAlertKinds(record, spend);
  if (kinds.estimate_warning) {
    marks.set_estimate_warning(true);
    add(v1::ALERT_KIND_ESTIMATE_WARNING,
        DivideRoundHalfUp(low * __int128{80}, 100),
        absl::StrCat("Cost at ", FormatUsd(spend), ", 80% of the ",
                     FormatUsd(low), " estimate"));
  }
  if (kinds.over_estimate) {
    marks.set_over_estimate(true);
    add(v1::ALERT_KIND_OVER_ESTIMATE, high,
        absl::StrCat("Cost Exceeding Estimate: Current ", FormatUsd(spend),
                     " vs estimated ", FormatUsd(low), "-", FormatUsd(high),
                     "."));
  }
  if (kinds.budget_warning) {
    marks.set_budget_warning(true);
    add(v1::ALERT_KIND_BUDGET_WARNING,
        DivideRoundHalfUp(limit * __int128{80}, 100),
        absl::StrCat("Cost at ", FormatUsd(spend), ", 80% of the ",
                     FormatUsd(limit), " budget"));
  }
  if (kinds.budget_exceeded) {
    marks.set_budget_exceeded(true);
    *record.mutable_budget_exceeded_time() = ToProto(now);
    add(v1::ALERT_KIND_BUDGET_EXCEEDED, limit,
        absl::StrCat("Budget reached: ", FormatUsd(spend), " of ",
                     FormatUsd(limit)));
  }
  return due;
}

}  // namespace trainyard::cost
