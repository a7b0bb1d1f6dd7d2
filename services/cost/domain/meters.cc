// Copyright 2026 Trainyard authors.
#include "services/cost/domain/meters.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/time/proto_time.h"
#include "services/cost/domain/errors.h"
#include "services/cost/domain/job_cost.h"
#include "services/cost/domain/rate_card.h"

namespace trainyard::cost {
namespace {

using common::v1::CostPhase;

int64_t LastEndMs(const internal::JobRecord& record, CostPhase phase) {
  return phase < record.last_end_ms_size() ? record.last_end_ms(phase) : 0;
}

void SetLastEndMs(internal::JobRecord& record, CostPhase phase, int64_t ms) {
  while (record.last_end_ms_size() < common::v1::CostPhase_ARRAYSIZE) {
    record.add_last_end_ms(0);
  }
  record.set_last_end_ms(phase, std::max(record.last_end_ms(phase), ms));
}

// Closes open meter `index` of `record` at `end`, adds its entries.
void CloseOpen(internal::JobRecord& record, int index, absl::Time end,
               v1::MeterCloseReason reason, const WastedSteps* wasted,
               MeterChange& change) {
  v1::Meter meter = record.open_meters(index);
  record.mutable_open_meters()->DeleteSubrange(index, 1);
  *meter.mutable_end_time() = ToProto(end);
  meter.set_state(v1::METER_STATE_CLOSED);
  meter.set_close_reason(reason);
  std::vector<v1::LedgerEntry> entries = ClosedEntries(meter, wasted);
  int64_t amount = 0;
  for (const v1::LedgerEntry& e : entries) amount += e.amount().micros();
  meter.mutable_amount()->set_micros(amount);
  AddToTotals(entries, record);
  SetLastEndMs(record, meter.phase(), absl::ToUnixMillis(end));
  if (IsComputePhase(meter.phase())) {
    record.set_last_hourly_rate_micros(meter.hourly_rate().micros());
    record.set_last_gpu_type(meter.gpu_type());
    record.set_last_gpu_count(meter.gpu_count());
    record.set_last_pricing(meter.pricing());
  }
  change.entries.insert(change.entries.end(), entries.begin(), entries.end());
  change.meters.push_back(std::move(meter));
}

int FindOpen(const internal::JobRecord& record, const std::string& meter_id) {
  for (int i = 0; i < record.open_meters_size(); ++i) {
    if (record.open_meters(i).meter_id() == meter_id) return i;
  }
  return -1;
}

}  // namespace

Checked<MeterChange> OpenMeter(internal::JobRecord& record,
                               const v1::RateCard& card,
                               const MeterOpening& o) {
  if (record.final()) {
    return Rejection{
        .code = absl::StatusCode::kFailedPrecondition,
        .reason = kReasonJobCostFinal,
        .message = absl::StrCat(
            "job ", record.job_id(),
            " has a final cost; RegisterJob reopens it for a retry")};
  }
  const bool compute = IsComputePhase(o.phase);
  const int64_t start_ms = absl::ToUnixMillis(o.start_time);
  if (start_ms < LastEndMs(record, o.phase)) {
    return Rejection{
        .field = "start_time",
        .reason = kReasonMeterOverlap,
        .message = absl::StrCat(
            "overlaps the job's previous ", common::v1::CostPhase_Name(o.phase),
            " meter, which ended at ",
            absl::FormatTime(
                absl::FromUnixMillis(LastEndMs(record, o.phase))))};
  }
  int replaced = -1;
  for (int i = 0; i < record.open_meters_size(); ++i) {
    const v1::Meter& open = record.open_meters(i);
    if (open.phase() == o.phase) {
      return Rejection{
          .field = "phase",
          .reason = kReasonMeterOverlap,
          .message = absl::StrCat("meter ", open.meter_id(), " of phase ",
                                  common::v1::CostPhase_Name(o.phase),
                                  " is open for this job; close it first")};
    }
    if (compute && IsComputePhase(open.phase())) {
      if (o.start_time < FromProto(open.start_time())) {
        return Rejection{
            .field = "start_time",
            .reason = kReasonMeterOverlap,
            .message = absl::StrCat("before the start of meter ",
                                    open.meter_id(), " it replaces")};
      }
      replaced = i;
    }
  }
  v1::Meter meter;
  meter.set_meter_id(
      absl::StrCat(record.job_id(), ".m", record.meter_count() + 1));
  meter.set_job_id(record.job_id());
  meter.set_attempt(o.attempt);
  meter.set_phase(o.phase);
  meter.set_rate_card_version(card.version());
  *meter.mutable_start_time() = ToProto(o.start_time);
  meter.set_state(v1::METER_STATE_OPEN);
  meter.mutable_amount()->set_currency_code(card.currency_code());
  if (compute) {
    Checked<int64_t> rate = PodHourlyRateMicros(card, o.gpu_type, o.pricing,
                                                o.gpu_count, "gpu_type", false);
    if (!rate.ok()) return rate.rejection();
    meter.set_gpu_type(o.gpu_type);
    meter.set_gpu_count(o.gpu_count);
    meter.set_pricing(o.pricing);
    meter.set_pod_id(o.pod_id);
    meter.mutable_hourly_rate()->set_currency_code(card.currency_code());
    meter.mutable_hourly_rate()->set_micros(rate.value());
  } else {
    meter.set_storage_bytes(o.storage_bytes);
    *meter.mutable_storage_rate_per_gb_month() =
        card.paused_storage_per_gb_month();
  }
  MeterChange change;
  if (replaced >= 0) {
    CloseOpen(record, replaced, o.start_time,
              v1::METER_CLOSE_REASON_PHASE_CHANGE, nullptr, change);
  }
  record.set_meter_count(record.meter_count() + 1);
  *record.add_open_meters() = meter;
  change.meters.push_back(std::move(meter));
  return change;
}

Checked<MeterChange> CloseMeter(internal::JobRecord& record,
                                const v1::Meter& meter, const MeterClosing& c) {
  MeterChange change;
  if (meter.state() == v1::METER_STATE_CLOSED) {
    const bool same =
        meter.close_reason() == c.reason &&
        (!c.end_time_given || FromProto(meter.end_time()) == c.end_time);
    if (!same) {
      return Rejection{.field = c.end_time_given ? "end_time" : "reason",
                       .reason = kReasonMeterAlreadyClosed,
                       .message = absl::StrCat(
                           "meter ", meter.meter_id(), " was closed at ",
                           absl::FormatTime(FromProto(meter.end_time())), " (",
                           v1::MeterCloseReason_Name(meter.close_reason()),
                           "); a retry must repeat that close")};
    }
    change.meters.push_back(meter);
    return change;
  }
  const int index = FindOpen(record, meter.meter_id());
  if (index < 0) {
    return Rejection{
        .code = absl::StatusCode::kInternal,
        .message = absl::StrCat("meter ", meter.meter_id(),
                                " is open but not in its job's record")};
  }
  if (c.end_time < FromProto(meter.start_time())) {
    return Rejection{.field = "end_time",
                     .message = absl::StrCat(
                         "before the meter's start_time ",
                         absl::FormatTime(FromProto(meter.start_time())))};
  }
  const WastedSteps* wasted =
      c.reason == v1::METER_CLOSE_REASON_INTERRUPTED && c.wasted.has_value()
          ? &*c.wasted
          : nullptr;
  CloseOpen(record, index, c.end_time, c.reason, wasted, change);
  return change;
}

v1::MeterCloseReason CloseReasonFor(common::v1::JobState state) {
  switch (state) {
    case common::v1::JOB_STATE_COMPLETED:
      return v1::METER_CLOSE_REASON_COMPLETED;
    case common::v1::JOB_STATE_CANCELLED:
      return v1::METER_CLOSE_REASON_CANCELLED;
    default:
      return v1::METER_CLOSE_REASON_FAILED;
  }
}

MeterChange Finalize(internal::JobRecord& record, common::v1::JobState state,
                     absl::Time end) {
  MeterChange change;
  if (record.final()) return change;
  while (record.open_meters_size() > 0) {
    const absl::Time start = FromProto(record.open_meters(0).start_time());
    CloseOpen(record, 0, std::max(end, start), CloseReasonFor(state), nullptr,
              change);
  }
  record.set_final(true);
  record.set_final_state(state);
  *record.mutable_final_time() = ToProto(end);
  record.set_final_cost_micros(AccruedAt(record, end).spend_micros);
  return change;
}

}  // namespace trainyard::cost
