// Copyright 2026 Trainyard authors.
#include "services/cost/domain/ledger.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/time/proto_time.h"
#include "services/cost/domain/money.h"

namespace trainyard::cost {
namespace {

using common::v1::CostPhase;

constexpr int kPhaseCount = common::v1::CostPhase_ARRAYSIZE;

int64_t AmountFor(const v1::Meter& meter, int64_t ms) {
  if (meter.phase() == common::v1::COST_PHASE_PAUSED_STORAGE) {
    return StorageAmountMicros(meter.storage_rate_per_gb_month().micros(),
                               meter.storage_bytes(), ms);
  }
  return ComputeAmountMicros(meter.hourly_rate().micros(), ms);
}

v1::LedgerEntry EntryFor(const v1::Meter& meter, CostPhase phase,
                         absl::Time start, absl::Time end, int index) {
  v1::LedgerEntry e;
  e.set_entry_id(absl::StrCat(meter.meter_id(), ".", index));
  e.set_job_id(meter.job_id());
  e.set_meter_id(meter.meter_id());
  e.set_phase(phase);
  e.set_attempt(meter.attempt());
  *e.mutable_start_time() = ToProto(start);
  *e.mutable_end_time() = ToProto(end);
  const int64_t ms = BilledMs(end - start);
  *e.mutable_duration() = ToProto(absl::Milliseconds(ms));
  const std::string& currency =
      meter.phase() == common::v1::COST_PHASE_PAUSED_STORAGE
          ? meter.storage_rate_per_gb_month().currency_code()
          : meter.hourly_rate().currency_code();
  if (meter.phase() == common::v1::COST_PHASE_PAUSED_STORAGE) {
    e.set_unit("gb_month");
    e.set_quantity(static_cast<double>(meter.storage_bytes()) / kBytesPerGb *
                   ms / kMsPerStorageMonth);
    *e.mutable_unit_rate() = meter.storage_rate_per_gb_month();
  } else {
    const int gpus = std::max(meter.gpu_count(), 1);
    e.set_unit("gpu_hour");
    e.set_quantity(static_cast<double>(ms) / kMsPerHour * gpus);
    e.mutable_unit_rate()->set_currency_code(currency);
    e.mutable_unit_rate()->set_micros(meter.hourly_rate().micros() / gpus);
  }
  e.mutable_amount()->set_currency_code(currency);
  e.mutable_amount()->set_micros(AmountFor(meter, ms));
  e.set_gpu_type(meter.gpu_type());
  e.set_gpu_count(meter.gpu_count());
  e.set_pricing(meter.pricing());
  e.set_rate_card_version(meter.rate_card_version());
  return e;
}

}  // namespace

bool IsComputePhase(CostPhase phase) {
  return phase == common::v1::COST_PHASE_ACTIVE_COMPUTE ||
         phase == common::v1::COST_PHASE_RECOVERY_OVERHEAD ||
         phase == common::v1::COST_PHASE_WASTED_STEPS;
}

int64_t MeterAmountAt(const v1::Meter& meter, absl::Time end) {
  const absl::Time start = FromProto(meter.start_time());
  return AmountFor(meter, end > start ? BilledMs(end - start) : 0);
}

std::vector<v1::LedgerEntry> ClosedEntries(const v1::Meter& meter,
                                           const WastedSteps* wasted) {
  const absl::Time start = FromProto(meter.start_time());
  const absl::Time end = FromProto(meter.end_time());
  std::vector<v1::LedgerEntry> entries;
  absl::Time split = end;
  if (wasted != nullptr && wasted->steps > 0 && wasted->seconds_per_step > 0 &&
      IsComputePhase(meter.phase())) {
    const int64_t wasted_ms = std::min(
        BilledMs(end - start),
        static_cast<int64_t>(
            std::llround(wasted->steps * wasted->seconds_per_step * 1000)));
    split = end - absl::Milliseconds(wasted_ms);
  }
  if (split > start || split == end) {
    entries.push_back(EntryFor(meter, meter.phase(), start, split, 0));
  }
  if (split < end) {
    v1::LedgerEntry e =
        EntryFor(meter, common::v1::COST_PHASE_WASTED_STEPS, split, end, 1);
    e.set_steps(wasted->steps);
    e.set_description(absl::StrCat("Steps ", wasted->first_step, "-",
                                   wasted->first_step + wasted->steps - 1,
                                   " recomputed after spot interruption"));
    entries.push_back(std::move(e));
  }
  return entries;
}

v1::LedgerEntry ProvisionalEntry(const v1::Meter& meter, absl::Time now) {
  const absl::Time start = FromProto(meter.start_time());
  v1::LedgerEntry e =
      EntryFor(meter, meter.phase(), start, std::max(now, start), 0);
  e.set_provisional(true);
  return e;
}

internal::PhaseTotal& TotalOf(internal::JobRecord& record, CostPhase phase) {
  while (record.totals_size() < kPhaseCount) record.add_totals();
  return *record.mutable_totals(phase);
}

const internal::PhaseTotal& TotalOf(const internal::JobRecord& record,
                                    CostPhase phase) {
  if (phase < record.totals_size()) return record.totals(phase);
  return internal::PhaseTotal::default_instance();
}

void AddToTotals(const std::vector<v1::LedgerEntry>& entries,
                 internal::JobRecord& record) {
  for (const v1::LedgerEntry& e : entries) {
    internal::PhaseTotal& t = TotalOf(record, e.phase());
    t.set_amount_micros(t.amount_micros() + e.amount().micros());
    t.set_duration_ms(t.duration_ms() +
                      absl::ToInt64Milliseconds(FromProto(e.duration())));
    t.set_steps(t.steps() + e.steps());
  }
}

}  // namespace trainyard::cost
